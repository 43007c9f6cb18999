import { beforeAll, describe, expect, it } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { itemKey } from '../../functions/shared/kv-keys.ts'
import { candidateId } from '../../functions/shared/rerank-api.ts'
import { answerIds as ids, bindings, call, FIXTURES, inputOrder, repriced, seedFixtureKv } from './harness.ts'

// Real KV (seeded with the fixture slice of the committed release), real onnxruntime-web inference
// in workerd, compared with onnxruntime-node's scores of the same inputs (npm run fixtures).
beforeAll(seedFixtureKv)

describe('POST /v1/rerank on the edge', () => {
  it('fixtures were built from the release this worker bundles', () => {
    for (const [name, f] of Object.entries(FIXTURES))
      expect(f.expected.model, `${name}: run npm run fixtures`).toBe(manifest.version)
  })

  for (const name of ['anonymous', 'history', 'user-id'])
    it(`${name}: the edge head's ranking matches onnxruntime-node within 1e-5`, async () => {
      const { request, expected } = FIXTURES[name]
      const { res, body } = await call(request, { vars: { CACHE_TTL_S: '0' } })
      expect(res.status).toBe(200)
      expect(body.path).toBe('edge')
      expect(body.model).toBe(manifest.version)
      expect(body.degraded).toBeUndefined()
      const want = expected.edge!
      const k = request.k ?? request.candidates.length
      expect(ids(body)).toEqual(want.order.slice(0, k))
      for (const item of body.items) expect(Math.abs(item.score - want.scores[item.id])).toBeLessThanOrEqual(1e-5)
      expect(res.headers.get('X-Rerank-Path')).toBe('edge')
      expect(res.headers.get('X-Model-Version')).toBe(manifest.version)
      expect(res.headers.get('X-Cache')).toBe('MISS')
      const timing = res.headers.get('Server-Timing') ?? ''
      for (const metric of ['kv', 'infer', 'total']) expect(timing).toMatch(new RegExp(`(^|,)\\s*${metric};dur=`))
      expect(res.headers.get('X-Request-Id')).toMatch(/^[\w-]+$/)
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
  it('misses, then hits with the same body; candidate order and retrieval scores do not split the key', async () => {
    const request = { ...FIXTURES.history.request, k: 12 }
    const first = await call(request)
    expect(first.res.headers.get('X-Cache')).toBe('MISS')
    const second = await call(request)
    expect(second.res.headers.get('X-Cache')).toBe('HIT')
    expect(second.body).toEqual(first.body)
    expect(second.res.headers.get('X-Rerank-Path')).toBe('edge')
    expect(second.res.headers.get('X-Request-Id')).not.toBe(first.res.headers.get('X-Request-Id'))
    const shuffled = { ...request, candidates: request.candidates.map(candidateId).reverse() }
    expect((await call(shuffled)).res.headers.get('X-Cache')).toBe('HIT')
    const otherUser = { ...request, user: { history: request.user!.history!.slice(1) } }
    expect((await call(otherUser)).res.headers.get('X-Cache')).toBe('MISS')
  })

  it('personalized-by-id answers cache too, and no user id appears in the answer or its headers', async () => {
    const { request } = FIXTURES['user-id']
    const first = await call(request)
    const second = await call(request)
    expect([first.res.headers.get('X-Cache'), second.res.headers.get('X-Cache')]).toEqual(['MISS', 'HIT'])
    const userId = request.user!.id!
    for (const r of [first, second]) {
      expect(JSON.stringify(r.body)).not.toContain(userId)
      for (const [, v] of r.res.headers) expect(v).not.toContain(userId)
    }
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

  it('equal scores are ordered by id, so the input order cannot change a cached answer', async () => {
    const { prefix } = { prefix: manifest.embedding.kv_prefix }
    const [a, b] = inputOrder('anonymous').slice(0, 2)
    const twin = (await bindings.EMBEDDINGS.get(itemKey(prefix, a)))!
    await bindings.EMBEDDINGS.put(itemKey(prefix, 'twin-of-a'), twin)
    const query = FIXTURES.anonymous.request.query
    const forward = await call({ query, candidates: [a, 'twin-of-a', b] }, { vars: { CACHE_TTL_S: '0' } })
    const backward = await call({ query, candidates: [b, 'twin-of-a', a] }, { vars: { CACHE_TTL_S: '0' } })
    // Same order; scores equal up to float summation order (the list attention sums in input order).
    expect(ids(forward.body)).toEqual(ids(backward.body))
    forward.body.items.forEach((item: { score: number }, i: number) =>
      expect(item.score).toBeCloseTo(backward.body.items[i].score, 5),
    )
    const [x, y] = forward.body.items.filter((i: { id: string }) => i.id !== b)
    expect(x.score).toBe(y.score)
    expect(x.id < y.id).toBe(true)
  })

  it('never caches a degraded answer', async () => {
    const { request } = FIXTURES['unknown-query']
    const first = await call(request)
    const second = await call(request)
    expect(first.body.path).toBe('passthrough')
    expect([first.res.headers.get('X-Cache'), second.res.headers.get('X-Cache')]).toEqual(['MISS', 'MISS'])
    expect(first.res.headers.get('Cache-Control')).toBe('no-store')
  })
})
