/**
 * `POST /v1/rerank` (the contract in docs/api.md) and its GET form for plain CDN caching
 * (`GET /v1/rerank?query=…&candidates=id,id,…[&history=id,…][&k=…][&mode=…]`; no user id in a URL).
 * The handler is thin: validate → resolve (resolved-request.ts) → cache lookup → rerank() → respond
 * (+ cache), every answer under its own answer id and logged as an impression (functions/events/).
 */
import { zValidator } from '@hono/zod-validator'
import { Hono, type Context } from 'hono'
import { endTime, startTime } from 'hono/timing'
import { z } from 'zod'
import { invalid, rerankBody } from '../../http/rerank-input.ts'
import { EventLog } from '../../events/event-log.ts'
import { impressionOf, type ServedAnswer } from '../../events/impression.ts'
import { objectOf, RerankRequest, type RerankRequestInput, type RerankResponse } from '../../shared/rerank-api.ts'
import { AnswerCache } from '../answer-cache.ts'
import { manifest } from '../artifacts.ts'
import { edgeConfig, type EdgeConfig } from '../config.ts'
import type { EdgeEnv } from '../env.ts'
import { OriginClient } from '../origin-client.ts'
import { embeddingStore, originBreaker, rerankHead } from '../parts.ts'
import { rerank, type RerankDeps } from '../rerank.ts'
import { resolveRequest, type ResolvedRequest } from '../resolved-request.ts'
import { note } from '../../http/request-log.ts'

const list = (v: string | undefined) => (v === undefined || v === '' ? undefined : v.split(','))

/** The GET form's parameters, mapped onto the POST body (and validated by the same schema). */
const RerankQuery = z
  .strictObject(
    {
      query: z.string().optional(),
      candidates: z.string().optional(),
      history: z.string().optional(),
      k: z.string().optional(),
      mode: z.string().optional(),
    },
    {
      error: objectOf(
        'URL parameters',
        'the parameters are "query", "candidates", "history", "k" and "mode"; a user id is never sent in a URL',
      ),
    },
  )
  // Missing or malformed parameters are left for RerankRequest to name.
  .transform(
    (q) =>
      ({
        query: q.query,
        candidates: list(q.candidates),
        ...(q.history !== undefined ? { user: { history: list(q.history) ?? [] } } : {}),
        ...(q.k !== undefined ? { k: /^\d+$/.test(q.k) ? Number(q.k) : q.k } : {}),
        ...(q.mode !== undefined ? { mode: q.mode } : {}),
      }) as RerankRequestInput,
  )
  .pipe(RerankRequest)

function deps(c: Context<EdgeEnv>, config: EdgeConfig): RerankDeps {
  return {
    config,
    model: manifest.version,
    store: embeddingStore(c.env, config),
    head: rerankHead(c.var.heads, config),
    origin: new OriginClient(config.ORIGIN_URL, config.ORIGIN_TOKEN, originBreaker(config)),
    // From now, after the body was read and validated: a slow upload is not the origin's time.
    deadlineAt: Date.now() + config.ORIGIN_DEADLINE_MS,
    requestId: c.get('requestId'),
    time: async (name, fn) => {
      startTime(c, name)
      try {
        return await fn()
      } finally {
        endTime(c, name)
      }
    },
    note: (fields) => note(c, fields),
  }
}

async function serve(c: Context<EdgeEnv>, req: RerankRequest): Promise<Response> {
  const config = edgeConfig(c.env)
  const cache = new AnswerCache({ ttlSeconds: config.CACHE_TTL_S, modelVersion: manifest.version })
  const resolved = await resolveRequest(req, {
    config,
    userToken: c.req.header('X-User-Token'),
    cacheKey: (r) => cache.keyFor(r),
  })
  note(c, { candidates: req.candidates.length, k: req.k ?? null, mode: req.mode, user: resolved.asker })

  try {
    const hit = await cache.lookup(resolved)
    if (hit) {
      note(c, { cache: 'HIT', path: hit.headers['X-Rerank-Path'] })
      // The shopper saw this list: an impression of its own, under its own answer id.
      const answerId = logImpression(c, config, resolved, 'hit', () => JSON.parse(hit.body) as RerankResponse)
      return c.body(withAnswerId(hit.body, answerId), 200, { ...hit.headers, 'X-Answer-Id': answerId })
    }
  } catch (e) {
    note(c, { cache_error: String(e) }) // a cache fault is a miss
  }

  const answer = await rerank(resolved, deps(c, config))
  // Stored without an answer id: every serving of it gets its own.
  const body = JSON.stringify(answer.body)
  const answerId = logImpression(c, config, resolved, 'miss', () => answer.body)
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Rerank-Path': answer.body.path,
    'X-Model-Version': answer.body.model,
  }
  cache.store(
    resolved,
    { body, headers },
    answer.cacheable,
    (p) => c.executionCtx.waitUntil(p),
    (e) =>
      console.log(
        JSON.stringify({ level: 'warn', msg: 'cache put failed', request_id: c.get('requestId'), error: String(e) }),
      ),
  )
  if (answer.fallback.length) headers['X-Rerank-Fallback'] = answer.fallback.join(',')
  note(c, {
    cache: 'MISS',
    path: answer.body.path,
    model: answer.body.model,
    degraded: answer.body.degraded ?? [],
    fallback: answer.fallback,
  })
  return c.body(withAnswerId(body, answerId), 200, {
    ...headers,
    ...cache.missHeaders(resolved, answer.cacheable),
    'X-Answer-Id': answerId,
  })
}

/** The answer's JSON with `answer_id` as its first member (the body is a JSON object). */
const withAnswerId = (body: string, answerId: string) => `{"answer_id":"${answerId}",${body.slice(1)}`

/**
 * A new answer id, and the answer logged as an impression under it after the response (the
 * record is built there, from the resolved request and the answer as served).
 */
function logImpression(
  c: Context<EdgeEnv>,
  config: EdgeConfig,
  resolved: ResolvedRequest,
  cache: ServedAnswer['cache'],
  served: () => RerankResponse,
): string {
  const answerId = crypto.randomUUID()
  const at = Date.now()
  const log = new EventLog(c.env.EVENTS)
  if (log.enabled)
    c.executionCtx.waitUntil(
      log.send(async () => [await impressionOf(resolved, { answerId, at, cache, body: served() }, config)]),
    )
  return answerId
}

export const rerankRoutes = new Hono<EdgeEnv>()
  .post('/rerank', ...rerankBody, (c) => serve(c, c.get('rerankRequest')))
  .get('/rerank', zValidator('query', RerankQuery, invalid), (c) => serve(c, c.req.valid('query')))
