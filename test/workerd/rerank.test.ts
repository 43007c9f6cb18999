import { beforeAll, describe, expect, it } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { itemKey } from '../../functions/shared/kv-keys.ts'
import { candidateId } from '../../functions/shared/rerank-api.ts'
import { answerIds as ids, bindings, call, FIXTURES, inputOrder, repriced, seedFixtureKv } from './harness.ts'

// Real KV (seeded with the fixture slice of the committed release), real onnxruntime-web inference
// in workerd, compared with onnxruntime-node's scores of the same inputs (npm run fixtures).
beforeAll(seedFixtureKv)

type Called = Awaited<ReturnType<typeof call>>

describe('POST /v1/rerank on the edge', () => {
  it('fixtures were built from the release this worker bundles', () => {
    for (const [name, f] of Object.entries(FIXTURES))
      expect(f.expected.model, `${name}: run npm run fixtures`).toBe(manifest.version)
  })

  for (const name of ['anonymous', 'history', 'user-id'])
    describe(`${name}: the fixture request, scored at the edge`, () => {
      const { request, expected } = FIXTURES[name]
      let res: Response
      let body: any
      beforeAll(async () => {
        ;({ res, body } = await call(request, { vars: { CACHE_TTL_S: '0' } }))
      })

      it('answers 200 from the edge head, not degraded', () => {
        expect(res.status).toBe(200)
        expect(body.path).toBe('edge')
        expect(body.degraded).toBeUndefined()
      })

      it('ranks the top k as onnxruntime-node does', () => {
        const k = request.k ?? request.candidates.length
        expect(ids(body)).toEqual(expected.edge!.order.slice(0, k))
      })

      it("scores every item within 1e-5 of onnxruntime-node's score", () => {
        for (const item of body.items)
          expect(Math.abs(item.score - expected.edge!.scores[item.id]), item.id).toBeLessThanOrEqual(1e-5)
      })

      it("names the release's model in the body and in X-Model-Version", () => {
        expect(body.model).toBe(manifest.version)
        expect(res.headers.get('X-Model-Version')).toBe(manifest.version)
      })

      it('says the path in X-Rerank-Path: edge', () => {
        expect(res.headers.get('X-Rerank-Path')).toBe('edge')
      })

      it('is an answer-cache miss (X-Cache: MISS)', () => {
        expect(res.headers.get('X-Cache')).toBe('MISS')
      })

      it('times kv, infer and total in Server-Timing', () => {
        const timing = res.headers.get('Server-Timing') ?? ''
        for (const metric of ['kv', 'infer', 'total'])
          expect(timing, metric).toMatch(new RegExp(`(^|,)\\s*${metric};dur=`))
      })

      it('carries a request id (X-Request-Id)', () => {
        expect(res.headers.get('X-Request-Id')).toMatch(/^[\w-]+$/)
      })
    })

  it('personalization changes the answer: the same list ranks differently with a history', async () => {
    const { request } = FIXTURES.history
    const withHistory = await call(request, { vars: { CACHE_TTL_S: '0' } })
    const without = await call({ ...request, user: undefined }, { vars: { CACHE_TTL_S: '0' } })
    expect(withHistory.body.path).toBe('edge')
    expect(ids(without.body)).not.toEqual(ids(withHistory.body))
  })

  it('reads the catalog price from the item record: the top item, priced 8x higher, scores lower', async () => {
    const { request, expected } = FIXTURES.anonymous
    const top = expected.edge!.order[0]
    const key = itemKey(manifest.embedding.kv_prefix, top)
    const original = (await bindings.EMBEDDINGS.get(key))!
    await bindings.EMBEDDINGS.put(
      key,
      repriced(original, (price) => price * 8),
    )
    try {
      // VECTOR_CACHE_MB=0: read KV, not the isolate's LRU.
      const { body } = await call(request, { vars: { CACHE_TTL_S: '0', VECTOR_CACHE_MB: '0' } })
      expect(body.path).toBe('edge')
      expect(body.degraded).toBeUndefined()
      const score = body.items.find((i: { id: string }) => i.id === top).score
      expect(score).toBeLessThan(expected.edge!.scores[top] - 0.1)
    } finally {
      await bindings.EMBEDDINGS.put(key, original)
    }
  })

  it('returns only the ids asked for, k of them', async () => {
    const { request } = FIXTURES.anonymous
    const { body } = await call({ ...request, k: 7 }, { vars: { CACHE_TTL_S: '0' } })
    expect(body.items).toHaveLength(7)
    const asked = new Set(inputOrder('anonymous'))
    for (const item of body.items) expect(asked.has(item.id)).toBe(true)
  })

  it('answers the GET form like the POST form', async () => {
    const { request, expected } = FIXTURES.anonymous
    const qs = new URLSearchParams({ query: request.query, candidates: inputOrder('anonymous').join(','), k: '5' })
    const { res, body } = await call(null, { method: 'GET', path: `/v1/rerank?${qs}`, vars: { CACHE_TTL_S: '0' } })
    expect(res.status).toBe(200)
    expect(ids(body)).toEqual(expected.edge!.order.slice(0, 5))
  })

  it('a candidate without an embedding (under the threshold) is kept, unscored, after the scored ones', async () => {
    const { request } = FIXTURES.anonymous
    const { body } = await call(
      { ...request, candidates: [...request.candidates, 'sku-unknown-1'] },
      { vars: { CACHE_TTL_S: '0' } },
    )
    expect(body.path).toBe('edge')
    expect(body.degraded).toEqual(['candidates_without_embedding'])
    expect(body.items.at(-1)).toEqual({ id: 'sku-unknown-1', score: null })
  })
})

describe('answer cache (Workers Cache API)', () => {
  describe('the same request twice', () => {
    const request = { ...FIXTURES.history.request, k: 12 }
    let first: Called
    let second: Called
    beforeAll(async () => {
      first = await call(request)
      second = await call(request)
    })

    it('misses the first time', () => {
      expect(first.res.headers.get('X-Cache')).toBe('MISS')
    })

    it('hits the second time', () => {
      expect(second.res.headers.get('X-Cache')).toBe('HIT')
    })

    it('a hit answers the same ranking, under an answer id of its own', () => {
      const { answer_id: a, ...hit } = second.body as { answer_id: string }
      const { answer_id: b, ...miss } = first.body as { answer_id: string }
      expect({ hit, ownId: a !== b }).toEqual({ hit: miss, ownId: true })
    })

    it('a hit still says X-Rerank-Path: edge', () => {
      expect(second.res.headers.get('X-Rerank-Path')).toBe('edge')
    })

    it('a hit gets its own request id', () => {
      expect(second.res.headers.get('X-Request-Id')).not.toBe(first.res.headers.get('X-Request-Id'))
    })

    it('candidate order and retrieval scores do not split the key: the reversed bare ids hit', async () => {
      const shuffled = { ...request, candidates: request.candidates.map(candidateId).reverse() }
      expect((await call(shuffled)).res.headers.get('X-Cache')).toBe('HIT')
    })

    it('another history is another key: it misses', async () => {
      const otherUser = { ...request, user: { history: request.user!.history!.slice(1) } }
      expect((await call(otherUser)).res.headers.get('X-Cache')).toBe('MISS')
    })
  })

  describe('a request personalized by user id, twice', () => {
    const { request } = FIXTURES['user-id']
    const userId = request.user!.id!
    let answers: Called[]
    beforeAll(async () => {
      answers = [await call(request), await call(request)]
    })

    it('caches too: a miss, then a hit', () => {
      expect(answers.map((a) => a.res.headers.get('X-Cache'))).toEqual(['MISS', 'HIT'])
    })

    it('puts no user id in either answer', () => {
      for (const a of answers) expect(JSON.stringify(a.body)).not.toContain(userId)
    })

    it("puts no user id in either answer's headers", () => {
      for (const a of answers) for (const [name, v] of a.res.headers) expect(v, name).not.toContain(userId)
    })
  })

  it('never caches a degraded edge answer either', async () => {
    const request = {
      ...FIXTURES.anonymous.request,
      candidates: [...FIXTURES.anonymous.request.candidates, 'sku-unknown-2'],
    }
    const [first, second] = [await call(request), await call(request)]
    expect(first.body).toMatchObject({ path: 'edge', degraded: ['candidates_without_embedding'] })
    expect([first.res.headers.get('X-Cache'), second.res.headers.get('X-Cache')]).toEqual(['MISS', 'MISS'])
  })

  describe('equal scores are ordered by id, so the input order cannot change a cached answer', () => {
    // Candidate a, its twin (the same record under another id), and b: forward, then backward.
    const [a, b] = inputOrder('anonymous').slice(0, 2)
    let forward: Called
    let backward: Called
    beforeAll(async () => {
      const prefix = manifest.embedding.kv_prefix
      const twin = (await bindings.EMBEDDINGS.get(itemKey(prefix, a)))!
      await bindings.EMBEDDINGS.put(itemKey(prefix, 'twin-of-a'), twin)
      const query = FIXTURES.anonymous.request.query
      forward = await call({ query, candidates: [a, 'twin-of-a', b] }, { vars: { CACHE_TTL_S: '0' } })
      backward = await call({ query, candidates: [b, 'twin-of-a', a] }, { vars: { CACHE_TTL_S: '0' } })
    })

    it('the same order whichever way the list comes in', () => {
      expect(ids(forward.body)).toEqual(ids(backward.body))
    })

    it('the same scores either way, up to float summation order', () => {
      // The list attention sums in input order.
      forward.body.items.forEach((item: { score: number }, i: number) =>
        expect(item.score).toBeCloseTo(backward.body.items[i].score, 5),
      )
    })

    it('the twins tie exactly, and the smaller id comes first', () => {
      const [x, y] = forward.body.items.filter((i: { id: string }) => i.id !== b)
      expect(x.score).toBe(y.score)
      expect(x.id < y.id).toBe(true)
    })
  })

  describe('a degraded answer (a query without an embedding, no origin), twice', () => {
    const { request } = FIXTURES['unknown-query']
    let answers: Called[]
    beforeAll(async () => {
      answers = [await call(request), await call(request)]
    })

    it('is a passthrough', () => {
      expect(answers[0].body.path).toBe('passthrough')
    })

    it('is never cached: a miss both times', () => {
      expect(answers.map((a) => a.res.headers.get('X-Cache'))).toEqual(['MISS', 'MISS'])
    })

    it('tells other caches not to store it (Cache-Control: no-store)', () => {
      expect(answers[0].res.headers.get('Cache-Control')).toBe('no-store')
    })
  })
})
