import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { edgeConfig, type Bindings } from '../../functions/edge/config.ts'
import { EmbeddingStore } from '../../functions/edge/embedding-store.ts'
import { Breaker, OriginClient } from '../../functions/edge/origin-client.ts'
import { rerank, type RerankDeps } from '../../functions/edge/rerank.ts'
import { resolveRequest } from '../../functions/edge/resolved-request.ts'
import { itemKey } from '../../functions/shared/kv-keys.ts'
import { RerankRequest } from '../../functions/shared/rerank-api.ts'
import {
  answerIds as ids,
  bindings,
  brokenHead,
  call,
  FIXTURES,
  inputOrder,
  originCalls,
  originUrl,
  repriced,
  seedFixtureKv,
  storedHistoryKey,
} from './harness.ts'

// Every fallback trigger and fault, with the origin played by a real HTTP server
// (origin-server.ts) and the edge's real KV and head. None may answer 5xx.
beforeAll(seedFixtureKv)

const noCache = { CACHE_TTL_S: '0' }

describe('auto mode falls back to the origin', () => {
  it('when the query has no embedding, forwarding the resolved history, the token and the deadline, never the user id', async () => {
    const url = originUrl('answer')
    const request = { ...FIXTURES['unknown-query'].request, user: { id: 'u00042' } }
    const { res, body } = await call(request, {
      vars: { ...noCache, ORIGIN_URL: url, ORIGIN_TOKEN: 'sekret', ORIGIN_DEADLINE_MS: '2000' },
    })
    expect(res.status).toBe(200)
    expect(body).toMatchObject({ path: 'origin', model: 'origin-test' })
    expect(ids(body)).toEqual([...inputOrder('unknown-query')].sort().reverse())
    expect(res.headers.get('X-Rerank-Path')).toBe('origin')
    expect(res.headers.get('X-Rerank-Fallback')).toBe('query_without_embedding')
    expect(res.headers.get('Server-Timing')).toMatch(/origin;dur=/)
    const [sent] = await originCalls(url)
    expect(sent.headers.authorization).toBe('Bearer sekret')
    expect(Number(sent.headers['x-deadline-ms'])).toBeGreaterThan(0)
    expect(Number(sent.headers['x-deadline-ms'])).toBeLessThanOrEqual(2000)
    expect(sent.body.mode).toBe('full')
    expect(JSON.stringify(sent)).not.toContain('u00042')
  })

  it('forwards the history the edge read from KV for a user id (mode=full), cut to HISTORY_LIMIT', async () => {
    const url = originUrl('answer')
    const { request } = FIXTURES['user-id']
    const { body } = await call(request, { vars: { ...noCache, ORIGIN_URL: url } })
    expect(body.path).toBe('edge') // in auto mode the edge answers this one itself
    expect(await originCalls(url)).toHaveLength(0)
    const full = await call({ ...request, mode: 'full' }, { vars: { ...noCache, ORIGIN_URL: url, HISTORY_LIMIT: '7' } })
    expect(full.body.path).toBe('origin')
    const stored = JSON.parse((await bindings.EMBEDDINGS.get(await storedHistoryKey(request.user!.id!)))!) as string[]
    expect(stored.length).toBeGreaterThan(7)
    const [sent] = await originCalls(url)
    expect(sent.body.user).toEqual({ history: stored.slice(0, 7) })
    expect(sent.body.k).toBe(request.k)
  })

  it('sends the normalized query, so one cache key means one answer', async () => {
    const url = originUrl('answer')
    await call(
      { ...FIXTURES['unknown-query'].request, query: '  Hand-Knitted   UNICORN teapot cosy ' },
      { vars: { ...noCache, ORIGIN_URL: url } },
    )
    expect((await originCalls(url))[0].body.query).toBe('hand-knitted unicorn teapot cosy')
  })

  it('when too many candidates lack embeddings', async () => {
    const url = originUrl('answer')
    const { body } = await call(FIXTURES['unknown-items'].request, { vars: { ...noCache, ORIGIN_URL: url } })
    expect(body.path).toBe('origin')
    expect(body.degraded).toBeUndefined()
    expect(ids(body)).toEqual([...inputOrder('unknown-items')].sort().reverse())
  })
})

describe('when the origin fails too, the answer degrades — 200, never 5xx', () => {
  for (const behaviour of ['fail', 'hang', 'garbage', 'stranger'] as const)
    it(`origin ${behaviour}: unknown query → passthrough in retrieval order, saying why`, async () => {
      const started = Date.now()
      const { res, body } = await call(FIXTURES['unknown-query'].request, {
        vars: { ...noCache, ORIGIN_URL: originUrl(behaviour), ORIGIN_DEADLINE_MS: '400' },
      })
      expect(res.status).toBe(200)
      expect(body.path).toBe('passthrough')
      expect(body.model).toBe(manifest.version)
      expect(ids(body)).toEqual(inputOrder('unknown-query')) // the fixture's retrieval scores descend
      const reason = {
        fail: 'origin_error',
        hang: 'origin_timeout',
        garbage: 'origin_invalid_answer',
        stranger: 'origin_invalid_answer',
      }[behaviour]
      expect(body.degraded).toEqual([...FIXTURES['unknown-query'].expected.degraded, reason])
      expect(res.headers.get('X-Rerank-Path')).toBe('passthrough')
      if (behaviour === 'hang') expect(Date.now() - started).toBeLessThan(3000)
    })

  it('an origin that could not score either: the edge head answers instead, and a 4xx does not count toward the breaker', async () => {
    const { request, expected } = FIXTURES.anonymous
    const viaPassthrough = await call(
      { ...request, mode: 'full' },
      { vars: { ...noCache, ORIGIN_URL: originUrl('passthrough') } },
    )
    expect(viaPassthrough.body).toMatchObject({ path: 'edge', degraded: ['origin_passthrough'] })
    expect(ids(viaPassthrough.body)).toEqual(expected.edge!.order)
    const url = originUrl('reject')
    const vars = { ...noCache, ORIGIN_URL: url, BREAKER_FAILURES: '1' }
    for (let i = 0; i < 3; i++)
      expect((await call({ ...request, mode: 'full' }, { vars })).body.degraded).toEqual(['origin_rejected'])
    expect(await originCalls(url)).toHaveLength(3)
  })

  it('passthrough orders by retrieval score when every candidate has one', async () => {
    const request = {
      query: 'hand-knitted unicorn teapot cosy',
      candidates: [
        { id: 'a', score: 0.1 },
        { id: 'b', score: 0.9 },
        { id: 'c', score: 0.5 },
      ],
    }
    const { body } = await call(request, { vars: noCache })
    expect(body).toMatchObject({
      path: 'passthrough',
      items: [
        { id: 'b', score: 0.9 },
        { id: 'c', score: 0.5 },
        { id: 'a', score: 0.1 },
      ],
    })
    expect(body.degraded).toEqual(['query_without_embedding', 'origin_not_configured'])
  })

  it('too many unknown items and no origin: the head still ranks the known ones, unknown ones last', async () => {
    const { request, expected } = FIXTURES['unknown-items']
    const { body } = await call(request, { vars: noCache })
    expect(body.path).toBe('edge')
    expect(body.degraded).toEqual([...expected.degraded, 'origin_not_configured'])
    expect(ids(body).slice(0, expected.edge!.order.length)).toEqual(expected.edge!.order)
    expect(body.items.slice(expected.edge!.order.length).every((i: { score: unknown }) => i.score === null)).toBe(true)
  })

  it('mode=full with a failing origin: the edge head answers, marked degraded', async () => {
    const { request, expected } = FIXTURES.anonymous
    const { body } = await call({ ...request, mode: 'full' }, { vars: { ...noCache, ORIGIN_URL: originUrl('fail') } })
    expect(body.path).toBe('edge')
    expect(body.degraded).toEqual(['origin_error'])
    expect(ids(body)).toEqual(expected.edge!.order)
  })

  it('mode=edge never calls the origin', async () => {
    const url = originUrl('answer')
    const { body } = await call(
      { ...FIXTURES['unknown-query'].request, mode: 'edge' },
      { vars: { ...noCache, ORIGIN_URL: url } },
    )
    expect(body.path).toBe('passthrough')
    expect(body.degraded).toEqual(['query_without_embedding'])
    expect(await originCalls(url)).toHaveLength(0)
  })

  it('repeated failures open the breaker: later requests skip the origin', async () => {
    const url = originUrl('fail')
    const vars = { ...noCache, ORIGIN_URL: url, BREAKER_FAILURES: '2', BREAKER_COOLDOWN_S: '60' }
    const reasons = []
    for (let i = 0; i < 4; i++)
      reasons.push((await call(FIXTURES['unknown-query'].request, { vars })).body.degraded.at(-1))
    expect(reasons).toEqual(['origin_error', 'origin_error', 'origin_breaker_open', 'origin_breaker_open'])
    expect(await originCalls(url)).toHaveLength(2)
    const health = await call(null, { method: 'GET', path: '/healthz', vars })
    expect(health.body.origin).toEqual({ configured: true, breaker: 'open' })
  })
})

describe('edge faults', () => {
  it('KV unavailable (no binding): origin answers; without one, passthrough says kv_unavailable', async () => {
    // VECTOR_CACHE_MB=0: no isolate LRU to answer from either.
    const noKv = { EMBEDDINGS: undefined, VECTOR_CACHE_MB: '0' } as unknown as Partial<Bindings>
    const viaOrigin = await call(FIXTURES['user-id'].request, {
      vars: { ...noKv, ...noCache, ORIGIN_URL: originUrl('answer') },
    })
    expect(viaOrigin.res.status).toBe(200)
    expect(viaOrigin.body.path).toBe('origin')
    expect(viaOrigin.body.degraded).toEqual(['history_unavailable']) // the history lived in KV
    const alone = await call(FIXTURES.anonymous.request, { vars: { ...noKv, ...noCache } })
    expect(alone.res.status).toBe(200)
    expect(alone.body).toMatchObject({ path: 'passthrough', degraded: ['kv_unavailable', 'origin_not_configured'] })
    expect(ids(alone.body)).toEqual(inputOrder('anonymous'))
  })

  it.each([
    ['not a record at all', () => 'bm90IGEgdmVjdG9y'],
    ['a negative price', (good: string) => repriced(good, () => -5)],
    ['a NaN price', (good: string) => repriced(good, () => Number.NaN)],
  ])(
    'a corrupt item record in KV (%s): that candidate is unscored, the answer says corrupt_embedding',
    async (_, corrupt) => {
      const { request } = FIXTURES.anonymous
      const victim = inputOrder('anonymous')[3]
      const key = itemKey(manifest.embedding.kv_prefix, victim)
      const original = await bindings.EMBEDDINGS.get(key)
      await bindings.EMBEDDINGS.put(key, corrupt(original!))
      try {
        // VECTOR_CACHE_MB=0: read KV, not the isolate's LRU (which holds the good vector by now).
        const { res, body } = await call(request, { vars: { ...noCache, VECTOR_CACHE_MB: '0' } })
        expect(res.status).toBe(200)
        expect(body.path).toBe('edge')
        expect(body.degraded).toEqual(['corrupt_embedding', 'candidates_without_embedding'])
        expect(body.items.at(-1)).toEqual({ id: victim, score: null })
      } finally {
        await bindings.EMBEDDINGS.put(key, original!)
      }
    },
  )

  it('a corrupt stored history: the answer says history_unavailable, even from the origin', async () => {
    const user = 'u-with-a-broken-history'
    await bindings.EMBEDDINGS.put(await storedHistoryKey(user), '{"not": "a list"}')
    const request = { ...FIXTURES.anonymous.request, user: { id: user } }
    const atEdge = await call(request, { vars: noCache })
    expect(atEdge.body).toMatchObject({ path: 'edge', degraded: ['history_unavailable'] })
    const atOrigin = await call({ ...request, mode: 'full' }, { vars: { ...noCache, ORIGIN_URL: originUrl('answer') } })
    expect(atOrigin.body).toMatchObject({ path: 'origin', degraded: ['history_unavailable'] })
    expect(atOrigin.res.headers.get('Cache-Control')).toBe('no-store')
  })

  it('the head cannot load (a broken model): auto falls back to the origin, or passes through', async () => {
    const config = edgeConfig({ ...(env as unknown as Bindings), ...noCache })
    const broken = brokenHead()
    const deps = (origin: string): RerankDeps => ({
      config,
      model: manifest.version,
      store: new EmbeddingStore(bindings.EMBEDDINGS, {
        prefix: manifest.embedding.kv_prefix,
        dim: manifest.embedding.dim,
        cacheTtl: 60,
        vectorCacheBytes: 0,
      }),
      head: broken,
      origin: new OriginClient(origin, '', new Breaker(3, 1000)),
      deadlineAt: Date.now() + 2000,
      time: (_name, fn) => fn(),
      note: () => {},
    })
    const request = await resolveRequest(RerankRequest.parse(FIXTURES.anonymous.request), {
      config,
      userToken: undefined,
      cacheKey: async () => undefined,
    })
    const viaOrigin = await rerank(request, deps(originUrl('answer')))
    expect(viaOrigin.body.path).toBe('origin')
    expect(viaOrigin.body.degraded).toBeUndefined() // the origin's answer lacks nothing
    expect(viaOrigin.cacheable).toBe(true)
    expect(viaOrigin.fallback).toEqual(['head_unavailable'])
    const alone = await rerank(request, deps(''))
    expect(alone.body).toMatchObject({ path: 'passthrough', degraded: ['head_unavailable', 'origin_not_configured'] })
    expect(alone.cacheable).toBe(false)
  })
})

describe('Breaker', () => {
  // A clock the test moves, so no assertion races a timer.
  const clock = () => {
    const c = { t: 1_000_000, now: () => c.t }
    return c
  }

  it('opens after N consecutive failures, lets one trial through after the cooldown, and closes on its success', () => {
    const c = clock()
    const b = new Breaker(2, 50, c.now)
    b.failure()
    expect([b.state, b.allow()]).toEqual(['closed', true])
    b.failure()
    expect([b.state, b.allow()]).toEqual(['open', false])
    c.t += 49
    expect([b.state, b.allow()]).toEqual(['open', false])
    c.t += 1
    expect(b.state).toBe('half-open')
    expect(b.allow()).toBe(true) // the trial
    expect(b.allow()).toBe(false) // only one at a time
    b.success()
    expect([b.state, b.allow()]).toEqual(['closed', true])
  })

  it('re-opens on a failed trial, and a trial that never reports back expires', () => {
    const c = clock()
    const b = new Breaker(1, 40, c.now)
    b.failure()
    c.t += 40
    expect(b.allow()).toBe(true)
    b.failure()
    expect(b.state).toBe('open')
    c.t += 40
    expect(b.allow()).toBe(true) // a trial that is then lost (its request cancelled)
    expect(b.allow()).toBe(false)
    c.t += 39
    expect(b.allow()).toBe(false)
    c.t += 1
    expect(b.allow()).toBe(true)
  })
})
