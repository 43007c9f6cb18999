import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { rerank } from '../../functions/client/rerank-client.ts'
import { signUserToken } from '../../functions/shared/user-token.ts'
import { answerIds as ids, FIXTURES, inputOrder, originUrl, seedFixtureKv, USER_TOKEN_SECRET } from './harness.ts'

// The storefront's typed client against the real worker (SELF, in workerd) and against servers
// that fail in the ways a page meets: it never throws, and says why when it falls back.
beforeAll(seedFixtureKv)

const viaWorker = { fetch: SELF.fetch.bind(SELF) as typeof fetch }
const { request, expected } = FIXTURES.anonymous

describe('rerank() for storefront code', () => {
  it("returns the worker's answer and the headers it exposes", async () => {
    const answer = await rerank('https://edge.test', request, viaWorker)
    expect(answer.path).toBe('edge')
    expect(ids(answer)).toEqual(expected.edge!.order)
    expect(answer.headers).toMatchObject({ path: 'edge', cache: expect.stringMatching(/HIT|MISS/) })
  })

  it('sends a signed user token, which buys the user’s stored history', async () => {
    const { request: personal } = FIXTURES['user-id']
    const userToken = await signUserToken(USER_TOKEN_SECRET, personal.user!.id!)
    const answer = await rerank('https://edge.test', personal, { ...viaWorker, userToken })
    expect(answer.degraded).toBeUndefined()
    expect((await rerank('https://edge.test', personal, viaWorker)).degraded).toEqual(['history_unavailable'])
  })

  it.each([
    ['a 5xx', () => originUrl('fail').replace(/\/$/, ''), 'client_server_error'],
    ['an answer outside the contract', () => originUrl('stranger').replace(/\/$/, ''), 'client_invalid_answer'],
    ['a network error', () => 'http://127.0.0.1:9', 'client_network_error'],
  ])('on %s: the input order, marked, never a throw', async (_, base, reason) => {
    const answer = await rerank(base(), FIXTURES['unknown-query'].request)
    expect(answer).toMatchObject({ path: 'passthrough', degraded: [reason] })
    expect(ids(answer)).toEqual(inputOrder('unknown-query'))
  })

  it('on a timeout: the input order, in time', async () => {
    const started = Date.now()
    const answer = await rerank(originUrl('hang').replace(/\/$/, ''), request, { timeoutMs: 200 })
    expect(answer.degraded).toEqual(['client_timeout'])
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('on a refused request: the input order, with the problem to fix', async () => {
    const answer = await rerank('https://edge.test', { ...request, k: 0 }, viaWorker)
    expect(answer.degraded).toEqual(['client_rejected'])
    expect(answer.problem).toMatchObject({ status: 400, field: 'k' })
  })
})
