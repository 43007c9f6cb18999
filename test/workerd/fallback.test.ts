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

type Called = Awaited<ReturnType<typeof call>>
type OriginCall = Awaited<ReturnType<typeof originCalls>>[number]

describe('auto mode falls back to the origin', () => {
  describe('when the query has no embedding', () => {
    const url = originUrl('answer')
    let answer: Called
    let sent: OriginCall
    beforeAll(async () => {
      const request = { ...FIXTURES['unknown-query'].request, user: { id: 'u00042' } }
      answer = await call(request, {
        vars: { ...noCache, ORIGIN_URL: url, ORIGIN_TOKEN: 'sekret', ORIGIN_DEADLINE_MS: '2000' },
      })
      ;[sent] = await originCalls(url)
    })

    it("answers 200 with the origin's answer and model", () => {
      expect(answer.res.status).toBe(200)
      expect(answer.body).toMatchObject({ path: 'origin', model: 'origin-test' })
    })

    it("keeps the origin's order", () => {
      expect(ids(answer.body)).toEqual([...inputOrder('unknown-query')].sort().reverse())
    })

    it('says the path in X-Rerank-Path: origin', () => {
      expect(answer.res.headers.get('X-Rerank-Path')).toBe('origin')
    })

    it('says why in X-Rerank-Fallback: query_without_embedding', () => {
      expect(answer.res.headers.get('X-Rerank-Fallback')).toBe('query_without_embedding')
    })

    it('times the origin call in Server-Timing', () => {
      expect(answer.res.headers.get('Server-Timing')).toMatch(/origin;dur=/)
    })

    it('sends ORIGIN_TOKEN as a bearer token', () => {
      expect(sent.headers.authorization).toBe('Bearer sekret')
    })

    it('sends the time left, at most ORIGIN_DEADLINE_MS, in X-Deadline-Ms', () => {
      expect(Number(sent.headers['x-deadline-ms'])).toBeGreaterThan(0)
      expect(Number(sent.headers['x-deadline-ms'])).toBeLessThanOrEqual(2000)
    })

    it('asks the origin for mode=full', () => {
      expect(sent.body.mode).toBe('full')
    })

    it('never sends the user id', () => {
      expect(JSON.stringify(sent)).not.toContain('u00042')
    })
  })

  describe('a request with a user id, in auto mode and then in mode=full', () => {
    const url = originUrl('answer')
    const { request } = FIXTURES['user-id']
    let auto: Called
    let callsAfterAuto: OriginCall[]
    let full: Called
    let sent: OriginCall
    beforeAll(async () => {
      auto = await call(request, { vars: { ...noCache, ORIGIN_URL: url } })
      callsAfterAuto = await originCalls(url)
      full = await call({ ...request, mode: 'full' }, { vars: { ...noCache, ORIGIN_URL: url, HISTORY_LIMIT: '7' } })
      ;[sent] = await originCalls(url)
    })

    it('auto: the edge answers it itself, calling no origin', () => {
      expect(auto.body.path).toBe('edge')
      expect(callsAfterAuto).toHaveLength(0)
    })

    it('mode=full: the origin answers', () => {
      expect(full.body.path).toBe('origin')
    })

    it('forwards the history the edge read from KV, cut to HISTORY_LIMIT', async () => {
      const stored = JSON.parse((await bindings.EMBEDDINGS.get(await storedHistoryKey(request.user!.id!)))!) as string[]
      expect(stored.length).toBeGreaterThan(7)
      expect(sent.body.user).toEqual({ history: stored.slice(0, 7) })
    })

    it("forwards the request's k", () => {
      expect(sent.body.k).toBe(request.k)
    })
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
    describe(`origin ${behaviour}: unknown query → passthrough in retrieval order, saying why`, () => {
      const reason = {
        fail: 'origin_error',
        hang: 'origin_timeout',
        garbage: 'origin_invalid_answer',
        stranger: 'origin_invalid_answer',
      }[behaviour]
      let answer: Called
      let elapsedMs: number
      beforeAll(async () => {
        const started = Date.now()
        answer = await call(FIXTURES['unknown-query'].request, {
          vars: { ...noCache, ORIGIN_URL: originUrl(behaviour), ORIGIN_DEADLINE_MS: '400' },
        })
        elapsedMs = Date.now() - started
      })

      it('answers 200, passing the list through', () => {
        expect(answer.res.status).toBe(200)
        expect(answer.body.path).toBe('passthrough')
      })

      it("names the release's model", () => {
        expect(answer.body.model).toBe(manifest.version)
      })

      it('keeps the retrieval order', () => {
        expect(ids(answer.body)).toEqual(inputOrder('unknown-query')) // the fixture's retrieval scores descend
      })

      it(`says why: ${reason}`, () => {
        expect(answer.body.degraded).toEqual([...FIXTURES['unknown-query'].expected.degraded, reason])
      })

      it('says the path in X-Rerank-Path: passthrough', () => {
        expect(answer.res.headers.get('X-Rerank-Path')).toBe('passthrough')
      })

      if (behaviour === 'hang')
        it('gives up on the origin at its deadline, not when it answers', () => {
          expect(elapsedMs).toBeLessThan(3000)
        })
    })

  it('an origin that could not score either (passthrough): the edge head answers instead', async () => {
    const { request, expected } = FIXTURES.anonymous
    const viaPassthrough = await call(
      { ...request, mode: 'full' },
      { vars: { ...noCache, ORIGIN_URL: originUrl('passthrough') } },
    )
    expect(viaPassthrough.body).toMatchObject({ path: 'edge', degraded: ['origin_passthrough'] })
    expect(ids(viaPassthrough.body)).toEqual(expected.edge!.order)
  })

  it('an origin that rejects the request (4xx): origin_rejected, and a 4xx does not count toward the breaker', async () => {
    const { request } = FIXTURES.anonymous
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

  describe('too many unknown items and no origin', () => {
    const { request, expected } = FIXTURES['unknown-items']
    const known = expected.edge!.order.length
    let body: any
    beforeAll(async () => {
      ;({ body } = await call(request, { vars: noCache }))
    })

    it('the edge head answers, saying what it lacked and that no origin is configured', () => {
      expect(body.path).toBe('edge')
      expect(body.degraded).toEqual([...expected.degraded, 'origin_not_configured'])
    })

    it('ranks the known ones first, as onnxruntime-node does', () => {
      expect(ids(body).slice(0, known)).toEqual(expected.edge!.order)
    })

    it('puts the unknown ones last, unscored', () => {
      expect(body.items.slice(known).every((i: { score: unknown }) => i.score === null)).toBe(true)
    })
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

  describe('repeated failures open the breaker (2 failures, 60 s cooldown), four requests', () => {
    const url = originUrl('fail')
    const vars = { ...noCache, ORIGIN_URL: url, BREAKER_FAILURES: '2', BREAKER_COOLDOWN_S: '60' }
    const reasons: string[] = []
    beforeAll(async () => {
      for (let i = 0; i < 4; i++)
        reasons.push((await call(FIXTURES['unknown-query'].request, { vars })).body.degraded.at(-1))
    })

    it('the first two fail at the origin; the later two skip it, saying origin_breaker_open', () => {
      expect(reasons).toEqual(['origin_error', 'origin_error', 'origin_breaker_open', 'origin_breaker_open'])
    })

    it('only the first two reach the origin', async () => {
      expect(await originCalls(url)).toHaveLength(2)
    })

    it('/healthz says the breaker is open', async () => {
      const health = await call(null, { method: 'GET', path: '/healthz', vars })
      expect(health.body.origin).toEqual({ configured: true, breaker: 'open' })
    })
  })
})

describe('edge faults', () => {
  describe('KV unavailable (no binding)', () => {
    // VECTOR_CACHE_MB=0: no isolate LRU to answer from either.
    const noKv = { EMBEDDINGS: undefined, VECTOR_CACHE_MB: '0' } as unknown as Partial<Bindings>

    it('with an origin: the origin answers, saying history_unavailable', async () => {
      const viaOrigin = await call(FIXTURES['user-id'].request, {
        vars: { ...noKv, ...noCache, ORIGIN_URL: originUrl('answer') },
      })
      expect(viaOrigin.res.status).toBe(200)
      expect(viaOrigin.body.path).toBe('origin')
      expect(viaOrigin.body.degraded).toEqual(['history_unavailable']) // the history lived in KV
    })

    it('without one: passthrough in the input order, saying kv_unavailable', async () => {
      const alone = await call(FIXTURES.anonymous.request, { vars: { ...noKv, ...noCache } })
      expect(alone.res.status).toBe(200)
      expect(alone.body).toMatchObject({ path: 'passthrough', degraded: ['kv_unavailable', 'origin_not_configured'] })
      expect(ids(alone.body)).toEqual(inputOrder('anonymous'))
    })
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

  describe('a corrupt stored history', () => {
    const user = 'u-with-a-broken-history'
    const request = { ...FIXTURES.anonymous.request, user: { id: user } }
    beforeAll(async () => {
      await bindings.EMBEDDINGS.put(await storedHistoryKey(user), '{"not": "a list"}')
    })

    it('at the edge: the answer says history_unavailable', async () => {
      const atEdge = await call(request, { vars: noCache })
      expect(atEdge.body).toMatchObject({ path: 'edge', degraded: ['history_unavailable'] })
    })

    describe('from the origin', () => {
      let atOrigin: Called
      beforeAll(async () => {
        atOrigin = await call({ ...request, mode: 'full' }, { vars: { ...noCache, ORIGIN_URL: originUrl('answer') } })
      })

      it('the answer says history_unavailable too', () => {
        expect(atOrigin.body).toMatchObject({ path: 'origin', degraded: ['history_unavailable'] })
      })

      it('is not stored (Cache-Control: no-store)', () => {
        expect(atOrigin.res.headers.get('Cache-Control')).toBe('no-store')
      })
    })
  })

  describe('the head cannot load (a broken model)', () => {
    let viaOrigin: Awaited<ReturnType<typeof rerank>>
    let alone: Awaited<ReturnType<typeof rerank>>
    beforeAll(async () => {
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
      viaOrigin = await rerank(request, deps(originUrl('answer')))
      alone = await rerank(request, deps(''))
    })

    it('auto falls back to the origin, whose answer lacks nothing', () => {
      expect(viaOrigin.body.path).toBe('origin')
      expect(viaOrigin.body.degraded).toBeUndefined()
    })

    it('notes head_unavailable as the fallback reason', () => {
      expect(viaOrigin.fallback).toEqual(['head_unavailable'])
    })

    it("the origin's answer may be cached", () => {
      expect(viaOrigin.cacheable).toBe(true)
    })

    it('without an origin: passthrough, saying head_unavailable and origin_not_configured', () => {
      expect(alone.body).toMatchObject({ path: 'passthrough', degraded: ['head_unavailable', 'origin_not_configured'] })
    })

    it('the passthrough may not be cached', () => {
      expect(alone.cacheable).toBe(false)
    })
  })
})

describe('Breaker', () => {
  // A clock the test moves, so no assertion races a timer.
  const clock = () => {
    const c = { t: 1_000_000, now: () => c.t }
    return c
  }

  /** A breaker of 2 failures and a 50 ms cooldown after `failures` consecutive failures. */
  const failedTimes = (failures: number) => {
    const c = clock()
    const b = new Breaker(2, 50, c.now)
    for (let i = 0; i < failures; i++) b.failure()
    return { b, c }
  }

  it('stays closed below N consecutive failures', () => {
    const { b } = failedTimes(1)
    expect([b.state, b.allow()]).toEqual(['closed', true])
  })

  it('opens at N consecutive failures', () => {
    const { b } = failedTimes(2)
    expect([b.state, b.allow()]).toEqual(['open', false])
  })

  it('stays open until the cooldown is over', () => {
    const { b, c } = failedTimes(2)
    c.t += 49
    expect([b.state, b.allow()]).toEqual(['open', false])
  })

  it('after the cooldown, half-open: lets a trial through', () => {
    const { b, c } = failedTimes(2)
    c.t += 50
    expect(b.state).toBe('half-open')
    expect(b.allow()).toBe(true)
  })

  it('half-open lets only one trial through at a time', () => {
    const { b, c } = failedTimes(2)
    c.t += 50
    b.allow() // the trial
    expect(b.allow()).toBe(false)
  })

  it("closes on the trial's success", () => {
    const { b, c } = failedTimes(2)
    c.t += 50
    b.allow()
    b.success()
    expect([b.state, b.allow()]).toEqual(['closed', true])
  })

  it('re-opens on a failed trial', () => {
    const c = clock()
    const b = new Breaker(1, 40, c.now)
    b.failure()
    c.t += 40
    expect(b.allow()).toBe(true)
    b.failure()
    expect(b.state).toBe('open')
  })

  it('a trial that never reports back expires after the cooldown', () => {
    const c = clock()
    const b = new Breaker(1, 40, c.now)
    b.failure()
    c.t += 40
    b.allow()
    b.failure() // re-opened
    c.t += 40
    expect(b.allow()).toBe(true) // a trial that is then lost (its request cancelled)
    expect(b.allow()).toBe(false)
    c.t += 39
    expect(b.allow()).toBe(false)
    c.t += 1
    expect(b.allow()).toBe(true)
  })
})
