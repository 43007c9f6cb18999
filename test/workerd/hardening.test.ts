import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { edgeConfig, type Bindings } from '../../functions/edge/config.ts'
import { recordCharge } from '../../functions/edge/embedding-store.ts'
import { sha256Hex } from '../../functions/shared/digest.ts'
import { historyKey, itemKey } from '../../functions/shared/kv-keys.ts'
import { answerByteCap, Breaker } from '../../functions/edge/origin-client.ts'
import { manifest } from '../../functions/edge/artifacts.ts'
import {
  app,
  bindings,
  call,
  FIXTURES,
  originCalls,
  originUrl,
  seedFixtureKv,
  storedHistoryKey,
  userKey,
} from './harness.ts'

// What a misbehaving origin can do to the edge (issue: edge hardening). None may answer 5xx,
// poison the cache or leak the request elsewhere.
beforeAll(seedFixtureKv)

const { request } = FIXTURES['unknown-query'] // the edge cannot score it: the origin's answer decides
const viaOrigin = (behaviour: string, vars: Record<string, string> = {}) => ({
  ORIGIN_URL: originUrl(behaviour),
  ORIGIN_DEADLINE_MS: '5000',
  ...vars,
})

describe("the origin's answer is untrusted input", () => {
  it('a model string carrying a header line: origin_invalid_answer, a 200 that caches nothing', async () => {
    const first = await call(request, { vars: viaOrigin('injected') })
    expect(first.res.status).toBe(200)
    expect(first.body).toMatchObject({ path: 'passthrough', model: manifest.version })
    expect(first.body.degraded.at(-1)).toBe('origin_invalid_answer')
    expect(first.res.headers.get('X-Injected')).toBeNull()
    expect(first.res.headers.get('Cache-Control')).toBe('no-store')
  })

  it('a 200 KB model string: origin_invalid_answer, not cached', async () => {
    const vars = viaOrigin('bloated')
    const first = await call(request, { vars })
    expect(first.body.degraded.at(-1)).toBe('origin_invalid_answer')
    expect((await call(request, { vars })).res.headers.get('X-Cache')).toBe('MISS')
  })

  it('an answer longer than the request can justify is cut off: origin_invalid_answer', async () => {
    expect(answerByteCap(20)).toBeLessThan(2 ** 20)
    const { res, body } = await call(request, { vars: viaOrigin('huge') })
    expect(res.status).toBe(200)
    expect(body.degraded.at(-1)).toBe('origin_invalid_answer')
  })

  it('a redirect is not followed: the request and its history go nowhere else', async () => {
    const url = originUrl('redirect')
    const { body } = await call({ ...request, user: { history: ['i000001'] } }, { vars: { ORIGIN_URL: url } })
    expect(body.degraded.at(-1)).toBe('origin_error')
    const followed = await originCalls(url.replace('/redirect/', '/answer/'))
    expect(followed).toHaveLength(0)
  })

  it('an origin answer with null scores is not a full answer', async () => {
    const { body, res } = await call(request, { vars: viaOrigin('nulls') })
    expect(body).toMatchObject({ path: 'passthrough' })
    expect(body.degraded.at(-1)).toBe('origin_invalid_answer')
    expect(res.headers.get('Cache-Control')).toBe('no-store')
  })

  it('401 counts toward the breaker (origin_unauthorized): a wrongly configured token opens it', async () => {
    const vars = viaOrigin('deny', { BREAKER_FAILURES: '1', BREAKER_COOLDOWN_S: '60' })
    const reasons = []
    for (let i = 0; i < 2; i++) reasons.push((await call(request, { vars })).body.degraded.at(-1))
    expect(reasons).toEqual(['origin_unauthorized', 'origin_breaker_open'])
  })

  it('429 with Retry-After opens the breaker at once, for as long as the origin asked', async () => {
    const vars = viaOrigin('limited', { BREAKER_FAILURES: '3', BREAKER_COOLDOWN_S: '1' })
    const reasons = []
    for (let i = 0; i < 2; i++) reasons.push((await call(request, { vars })).body.degraded.at(-1))
    expect(reasons).toEqual(['origin_rate_limited', 'origin_breaker_open'])
    expect(await originCalls(vars.ORIGIN_URL)).toHaveLength(1)
  })
})

describe('Breaker and Retry-After', () => {
  it('stays open for the Retry-After when it is longer than the cooldown', () => {
    const c = { t: 0, now: () => c.t }
    const b = new Breaker(3, 1000, c.now)
    b.failure(60_000)
    c.t += 59_999
    expect(b.state).toBe('open')
    c.t += 1
    expect(b.state).toBe('half-open')
  })
})

describe('one caller must not shape another’s answer', () => {
  it('an order-sensitive origin answers the same for every order of the same candidates', async () => {
    const url = originUrl('answer') // reverses the list it is sent
    const ids = ['i000003', 'i000001', 'i000002']
    const orders = [ids, [...ids].reverse(), [ids[1], ids[2], ids[0]]]
    const answers = []
    for (const candidates of orders)
      answers.push(
        (await call({ query: request.query, candidates, mode: 'full' }, { vars: { ORIGIN_URL: url } })).body.items,
      )
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])
    const sent = await originCalls(url)
    expect(sent[0].body.candidates).toEqual([...ids].sort()) // id order, no retrieval scores
  })

  it('what the origin answered is cached in the one ordering (by score, ties by id)', async () => {
    const vars = { ORIGIN_URL: originUrl('answer') }
    const candidates = [
      { id: 'i000002', score: 0.1 },
      { id: 'i000001', score: 0.9 },
    ]
    const first = await call({ query: request.query, candidates, mode: 'full' as const }, { vars })
    const again = await call(
      { query: request.query, candidates: [...candidates].reverse(), mode: 'full' as const },
      { vars },
    )
    expect(again.res.headers.get('X-Cache')).toBe('HIT')
    expect(again.body.items).toEqual(first.body.items)
  })

  it('a personalized answer is private; an anonymous one public', async () => {
    const { request: anon } = FIXTURES.anonymous
    const { request: personal } = FIXTURES.history
    expect((await call(anon)).res.headers.get('Cache-Control')).toBe('public, max-age=300')
    expect((await call(personal)).res.headers.get('Cache-Control')).toBe('private, max-age=300')
    expect((await call({ ...anon, user: { id: 'u00042' } })).res.headers.get('Cache-Control')).toMatch(/^private,/)
  })

  it('a cache hit says its age and the lifetime left, not a fresh TTL', async () => {
    const request = { ...FIXTURES.anonymous.request, k: 4 }
    expect((await call(request)).res.headers.get('X-Cache')).toBe('MISS')
    await new Promise((r) => setTimeout(r, 1100))
    const hit = await call(request)
    expect(hit.res.headers.get('X-Cache')).toBe('HIT')
    const age = Number(hit.res.headers.get('Age'))
    expect(age).toBeGreaterThanOrEqual(1)
    expect(hit.res.headers.get('Cache-Control')).toBe(`public, max-age=${300 - age}`)
  })
})

describe('limits that hold', () => {
  it('the origin deadline starts after the body is read: a slow upload does not use it up', async () => {
    const origins = inject('realOrigins')
    const text = JSON.stringify(request)
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const bytes = new TextEncoder().encode(text)
        controller.enqueue(bytes.subarray(0, 10))
        await new Promise((r) => setTimeout(r, 500)) // longer than the deadline
        controller.enqueue(bytes.subarray(10))
        controller.close()
      },
    })
    const vars = { ORIGIN_URL: origins.full, ORIGIN_TOKEN: origins.token, ORIGIN_DEADLINE_MS: '300', CACHE_TTL_S: '0' }
    const req = new Request('https://edge.test/v1/rerank', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    const ctx = createExecutionContext()
    const res = await app.fetch(req, { ...bindings, ...vars }, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { path: string }).path).toBe('origin')
  })
})

describe('the record cache bounds real memory', () => {
  it('charges a 64-d record at least what V8 holds for it (~666 bytes)', () => {
    const record = { vector: new Float32Array(64), price: 9.5 }
    expect(recordCharge(record, itemKey(manifest.embedding.kv_prefix, 'i000001'))).toBeGreaterThanOrEqual(666)
  })

  it('refuses a VECTOR_CACHE_MB a 128 MB isolate cannot hold, naming it', () => {
    expect(() => edgeConfig({ VECTOR_CACHE_MB: '64' } as Bindings)).toThrow(/VECTOR_CACHE_MB/)
    expect(edgeConfig({ VECTOR_CACHE_MB: '32' } as Bindings).VECTOR_CACHE_MB).toBe(32)
  })
})

describe('user-history keys', () => {
  it('are keyed with the secret: not the plain hash of the id, and another secret gives another key', async () => {
    const key = await storedHistoryKey('u00042')
    expect(key).toMatch(/^hist\/v1\/[0-9a-f]{32}$/)
    expect(key).not.toContain((await sha256Hex('user:u00042')).slice(0, 32))
    expect(await historyKey({ secret: 'another-secret-of-16+', version: 'v1' }, 'u00042')).not.toBe(key)
    expect(await historyKey({ ...userKey, version: 'v2' }, 'u00042')).toBe(key.replace('/v1/', '/v2/'))
  })

  it('without USER_KEY_SECRET no stored history is read: history_unavailable, never that user’s history', async () => {
    const { request } = FIXTURES['user-id']
    const keyed = await call(request, { vars: { CACHE_TTL_S: '0' } })
    expect(keyed.body.degraded).toBeUndefined()
    const unkeyed = await call(request, { vars: { CACHE_TTL_S: '0', USER_KEY_SECRET: '' } })
    expect(unkeyed.body).toMatchObject({ path: 'edge', degraded: ['history_unavailable'] })
    const anonymous = await call({ ...request, user: undefined }, { vars: { CACHE_TTL_S: '0' } })
    expect(unkeyed.body.items).toEqual(anonymous.body.items)
  })
})
