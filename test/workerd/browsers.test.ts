import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkUserToken, signUserToken } from '../../functions/shared/user-token.ts'
import { call, FIXTURES, seedFixtureKv, USER_TOKEN_SECRET } from './harness.ts'

// Browsers and storefront code: CORS, methods, and proof for a user id (a browser can be anyone).
beforeAll(seedFixtureKv)

const { request } = FIXTURES['user-id']
const noCache = { CACHE_TTL_S: '0' }

describe('a user id needs proof the storefront issued it', () => {
  it('with a valid signed token: the stored history personalizes the answer', async () => {
    const { body } = await call(request, { vars: noCache })
    const anonymous = await call({ ...request, user: undefined }, { vars: noCache })
    expect(body.degraded).toBeUndefined()
    expect(body.items).not.toEqual(anonymous.body.items)
  })

  it.each([
    ['no token', null],
    ['a forged token', 'v1.dTAwMDQy.9999999999.AAAA'],
    ['garbage', 'not-a-token'],
  ])('with %s: answered without personalization, saying so, never with that user’s history', async (_, token) => {
    const proven = await call(request, { vars: noCache })
    const { body } = await call(request, { vars: noCache, userToken: token })
    const anonymous = await call({ ...request, user: undefined }, { vars: noCache })
    expect(body.degraded).toEqual(['history_unavailable'])
    expect(body.items).toEqual(anonymous.body.items)
    expect(body.items).not.toEqual(proven.body.items)
  })

  it("never gets that user's cached answer either", async () => {
    const first = await call(request) // answer cache on: the proven answer is cached
    expect(first.body.degraded).toBeUndefined()
    expect((await call(request)).res.headers.get('X-Cache')).toBe('HIT')
    const unproven = await call(request, { userToken: null })
    expect(unproven.res.headers.get('X-Cache')).toBe('MISS')
    expect(unproven.body.degraded).toEqual(['history_unavailable'])
  })

  it("with another user's token, or an expired one: no personalization", async () => {
    const other = await signUserToken(USER_TOKEN_SECRET, 'u99999')
    const expired = await signUserToken(USER_TOKEN_SECRET, request.user!.id!, { now: Date.now() - 3_600_000 })
    for (const userToken of [other, expired])
      expect((await call(request, { vars: noCache, userToken })).body.degraded).toEqual(['history_unavailable'])
  })

  it('TRUST_USER_IDS=1 trusts a bare user id (a deployment whose callers are its own servers)', async () => {
    const { body } = await call(request, { vars: { ...noCache, TRUST_USER_IDS: '1' }, userToken: null })
    const anonymous = await call({ ...request, user: undefined }, { vars: noCache })
    expect(body.degraded).toBeUndefined()
    expect(body.items).not.toEqual(anonymous.body.items)
  })

  it('checkUserToken tells why a token fails', async () => {
    const token = await signUserToken(USER_TOKEN_SECRET, 'u1', { ttlSeconds: 60 })
    expect(await checkUserToken(USER_TOKEN_SECRET, token, 'u1')).toBe('valid')
    expect(await checkUserToken(USER_TOKEN_SECRET, token, 'u2')).toBe('other_user')
    expect(await checkUserToken('another-secret-of-16+', token, 'u1')).toBe('bad_signature')
    expect(await checkUserToken(USER_TOKEN_SECRET, token, 'u1', Date.now() + 61_000)).toBe('expired')
    expect(await checkUserToken(USER_TOKEN_SECRET, undefined, 'u1')).toBe('missing')
  })
})

describe('CORS', () => {
  const preflight = (origin: string) =>
    SELF.fetch('https://edge.test/v1/rerank', {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    })

  it('answers a preflight from an allowed origin', async () => {
    const res = await preflight('https://shop.example')
    expect(res.status).toBe(204)
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST')
    expect(res.headers.get('Access-Control-Allow-Headers')).toContain('X-User-Token')
  })

  it('allows no other origin', async () => {
    expect((await preflight('https://evil.example')).headers.get('Access-Control-Allow-Origin')).toBeNull()
  })

  it("exposes the answer's headers to storefront code", async () => {
    const res = await SELF.fetch('https://edge.test/v1/rerank', {
      method: 'POST',
      headers: { Origin: 'https://shop.example', 'Content-Type': 'application/json' },
      body: JSON.stringify(FIXTURES.anonymous.request),
    })
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
    const exposed = res.headers.get('Access-Control-Expose-Headers') ?? ''
    for (const h of ['Server-Timing', 'X-Rerank-Path', 'X-Cache', 'X-Model-Version']) expect(exposed).toContain(h)
  })
})

describe('methods', () => {
  it.each([
    ['DELETE', '/v1/rerank', 'GET, POST, OPTIONS'],
    ['PUT', '/v1/rerank', 'GET, POST, OPTIONS'],
    ['POST', '/healthz', 'GET'],
  ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
    const res = await SELF.fetch(`https://edge.test${path}`, { method })
    expect(res.status).toBe(405)
    expect(res.headers.get('Allow')).toBe(allow)
    expect(res.headers.get('Content-Type')).toBe('application/problem+json')
  })
})
