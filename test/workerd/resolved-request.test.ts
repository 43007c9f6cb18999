import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { AnswerCache } from '../../functions/edge/answer-cache.ts'
import { edgeConfig, type Bindings } from '../../functions/edge/config.ts'
import { plan, type Fetched } from '../../functions/edge/rerank.ts'
import { resolveRequest } from '../../functions/edge/resolved-request.ts'
import { RerankRequest } from '../../functions/shared/rerank-api.ts'
import { signUserToken } from '../../functions/shared/user-token.ts'

const bindings = env as unknown as Bindings
const config = edgeConfig(bindings)
const cache = new AnswerCache({ ttlSeconds: 300, modelVersion: 'test-release', cache: caches.default })
const request = (user?: { id?: string; history?: string[] }) =>
  RerankRequest.parse({ query: '  Red  Dress ', candidates: ['a', 'b', 'c'], ...(user ? { user } : {}) })
const resolve = (req: RerankRequest, userToken?: string) =>
  resolveRequest(req, { config, userToken, cacheKey: (r) => cache.keyFor(r) })

describe('resolveRequest', () => {
  it('an anonymous request: no history, no proof, a cache key', async () => {
    const r = await resolve(request())
    expect(r).toMatchObject({ asker: 'anonymous', history: null, proven: false })
    expect(r.proof).toBeUndefined()
    expect(r.cacheKey).toMatch(/^https:\/\/answers\.edge-rerank\.invalid\/v1\/rerank\/[0-9a-f]{64}$/)
  })

  it('a given history wins over a user id and is cut to HISTORY_LIMIT', async () => {
    const long = Array.from({ length: config.HISTORY_LIMIT + 5 }, (_, i) => `h${i}`)
    const r = await resolve(request({ id: 'u1', history: long }))
    expect(r.asker).toBe('history')
    expect(r.history).toEqual({ given: long.slice(0, config.HISTORY_LIMIT) })
    expect(r.proof).toBeUndefined()
  })

  it('a user id with a valid token is proven and keyed; its key and the cache key hold no raw id', async () => {
    const token = await signUserToken(config.USER_TOKEN_SECRET!, 'u1')
    const r = await resolve(request({ id: 'u1' }), token)
    expect(r).toMatchObject({ asker: 'user_id', proof: 'valid', proven: true })
    expect(r.user?.historyKey).toBe(`hist/${config.USER_KEY_VERSION}/${r.user?.hash}`)
    // The raw id stays in the validated request and its history source only.
    expect(JSON.stringify([r.user, r.cacheKey])).not.toContain('u1')
  })

  it('a user id without a token is unproven: no key, no history key, no cache key', async () => {
    const r = await resolve(request({ id: 'u1' }))
    expect(r).toMatchObject({ asker: 'user_id', proof: 'missing', proven: false })
    expect(r.user).toBeUndefined()
    expect(r.cacheKey).toBeUndefined()
  })

  it('two users asking the same thing get different cache keys', async () => {
    const [a, b] = await Promise.all(
      ['u1', 'u2'].map(async (id) => resolve(request({ id }), await signUserToken(config.USER_TOKEN_SECRET!, id))),
    )
    expect(a.cacheKey).not.toBe(b.cacheKey)
  })
})

describe('plan', () => {
  const fetched = (query: boolean, known: number, missing: number): Fetched => ({
    lookup: { query: query ? new Float32Array(4) : null } as Fetched['lookup'],
    known: Array.from({ length: known }, (_, i) => ({ id: `k${i}` })),
    missing: Array.from({ length: missing }, (_, i) => ({ id: `m${i}` })),
    history: [],
    reasons: [],
  })

  it('leaves what it is handed unchanged', () => {
    const f = fetched(true, 1, 9)
    const before = structuredClone({ ...f, lookup: null })
    plan('auto', f, 0.2)
    expect({ ...f, lookup: null }).toEqual(before)
  })

  it('too many candidates without a record: the origin first, the edge after, and says why', () => {
    expect(plan('auto', fetched(true, 1, 9), 0.2)).toEqual({
      attempts: ['origin', 'edge'],
      reasons: ['too_many_candidates_without_embedding'],
    })
  })

  it('no query vector: no edge attempt at all', () => {
    expect(plan('auto', fetched(false, 3, 0), 0.2)).toEqual({
      attempts: ['origin'],
      reasons: ['query_without_embedding'],
    })
  })
})
