/**
 * `POST /v1/rerank` (the contract in DESIGN.md) and its GET form for plain CDN caching
 * (`GET /v1/rerank?query=…&candidates=id,id,…[&history=id,…][&k=…][&mode=…]`; no user id in a URL).
 * The handler is thin: validate → cache lookup → rerank() → respond (+ cache).
 */
import { zValidator } from '@hono/zod-validator'
import { Hono, type Context } from 'hono'
import { endTime, startTime } from 'hono/timing'
import { z } from 'zod'
import { invalid, rerankBody } from '../../http/rerank-input.ts'
import { historySource, RerankRequest, type RerankRequestInput } from '../../shared/rerank-api.ts'
import { AnswerCache } from '../answer-cache.ts'
import { manifest } from '../artifacts.ts'
import { edgeConfig, type EdgeConfig } from '../config.ts'
import type { EdgeEnv } from '../env.ts'
import { OriginClient } from '../origin-client.ts'
import { embeddingStore, originBreaker, rerankHead } from '../parts.ts'
import { rerank, type RerankDeps } from '../rerank.ts'
import { checkUserToken } from '../../shared/user-token.ts'
import { historyKeyOf, userHash } from '../../shared/kv-keys.ts'
import { note } from '../../http/request-log.ts'

const list = (v: string | undefined) => (v === undefined || v === '' ? undefined : v.split(','))

/** The GET form's parameters, mapped onto the POST body (and validated by the same schema). */
const RerankQuery = z
  .strictObject({
    query: z.string().optional(),
    candidates: z.string().optional(),
    history: z.string().optional(),
    k: z.string().optional(),
    mode: z.string().optional(),
  })
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

/** What proves the request's user id (nothing to prove without one). */
async function userProof(c: Context<EdgeEnv>, req: RerankRequest): Promise<RerankDeps['userProof']> {
  const config = edgeConfig(c.env)
  const userId = req.user?.id
  if (userId === undefined || req.user?.history !== undefined) return undefined
  if (config.TRUST_USER_IDS) return 'trusted'
  if (!config.USER_TOKEN_SECRET) return 'missing'
  return checkUserToken(config.USER_TOKEN_SECRET, c.req.header('X-User-Token'), userId)
}

/** A proven user id, keyed once: the hash the cache key and the history's KV key both use. */
async function keyedUser(config: EdgeConfig, userId: string | undefined, proof: RerankDeps['userProof']) {
  if (userId === undefined || (proof !== 'valid' && proof !== 'trusted') || !config.USER_KEY_SECRET) return undefined
  const hash = await userHash({ secret: config.USER_KEY_SECRET, version: config.USER_KEY_VERSION }, userId)
  return { hash, historyKey: historyKeyOf(config.USER_KEY_VERSION, hash) }
}

async function deps(c: Context<EdgeEnv>, req: RerankRequest): Promise<RerankDeps> {
  const config = edgeConfig(c.env)
  const proof = await userProof(c, req)
  return {
    userProof: proof,
    user: await keyedUser(config, req.user?.history === undefined ? req.user?.id : undefined, proof),
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

/** Browsers and shared caches may keep anonymous answers; a personalized one is the user's alone. */
const cacheControl = (personalized: boolean, maxAge: number) =>
  `${personalized ? 'private' : 'public'}, max-age=${Math.max(0, maxAge)}`

async function serve(c: Context<EdgeEnv>, req: RerankRequest): Promise<Response> {
  const d = await deps(c, req)
  const cache = new AnswerCache(d.config.CACHE_TTL_S)
  const source = historySource(req, d.config.HISTORY_LIMIT)
  const who = source === null ? 'anonymous' : 'given' in source ? 'history' : 'user_id'
  note(c, { candidates: req.candidates.length, k: req.k ?? null, mode: req.mode, user: who })

  let key: string | undefined
  try {
    // No hashing of the canonical request when there is no cache to ask, and no asking for a user's
    // answer without proof of that user: a cached personalized answer is theirs alone.
    const unproven = d.userProof !== undefined && d.userProof !== 'valid' && d.userProof !== 'trusted'
    key = cache.enabled && !unproven ? await cache.key(req, d.model, d.config.HISTORY_LIMIT, d.user?.hash) : undefined
    const hit = key ? await cache.get(key) : null
    if (hit) {
      note(c, { cache: 'HIT', path: hit.headers['X-Rerank-Path'] })
      // The remaining lifetime, not a fresh one: a hit must not restart the TTL downstream.
      return c.body(hit.body, 200, {
        ...hit.headers,
        'X-Cache': 'HIT',
        Age: String(hit.ageSeconds),
        'Cache-Control': cacheControl(source !== null, d.config.CACHE_TTL_S - hit.ageSeconds),
      })
    }
  } catch (e) {
    note(c, { cache_error: String(e) }) // a cache fault is a miss
  }

  const answer = await rerank(req, d)
  const body = JSON.stringify(answer.body)
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Rerank-Path': answer.body.path,
    'X-Model-Version': answer.body.model,
  }
  if (answer.cacheable && key)
    c.executionCtx.waitUntil(
      cache.put(key, { body, headers }).catch((e) =>
        console.log(
          JSON.stringify({
            level: 'warn',
            msg: 'cache put failed',
            request_id: c.get('requestId'),
            error: String(e),
          }),
        ),
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
  return c.body(body, 200, {
    ...headers,
    'X-Cache': 'MISS',
    'Cache-Control':
      answer.cacheable && cache.enabled ? cacheControl(source !== null, d.config.CACHE_TTL_S) : 'no-store',
  })
}

export const rerankRoutes = new Hono<EdgeEnv>()
  .post('/rerank', ...rerankBody, (c) => serve(c, c.get('rerankRequest')))
  .get('/rerank', zValidator('query', RerankQuery, invalid), (c) => serve(c, c.req.valid('query')))
