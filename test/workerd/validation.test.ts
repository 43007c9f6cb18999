import { describe, expect, it } from 'vitest'
import { call } from './harness.ts'

// Edge-only input rules; the shared ones are the contract suite (test/contract/rerank-contract.ts).
describe('bad input at the edge', () => {
  it('the GET form names the same fields', async () => {
    const { res, body } = await call(null, { method: 'GET', path: '/v1/rerank?query=dress&candidates=a,a' })
    expect(res.status).toBe(400)
    expect(body.field).toBe('candidates.1')
    expect((await call(null, { method: 'GET', path: '/v1/rerank?candidates=a' })).body.field).toBe('query')
  })

  it('the GET form names every bad parameter', async () => {
    const { body } = await call(null, { method: 'GET', path: '/v1/rerank?query=dress&candidates=a&k=500&mode=fast' })
    expect(body.errors.map((e: { field: string }) => e.field)).toEqual(['k', 'mode'])
  })

  it('the GET form names an unknown parameter and the ones it takes', async () => {
    const { res, body } = await call(null, { method: 'GET', path: '/v1/rerank?query=dress&candidates=a&user=u1' })
    expect({ status: res.status, detail: body.detail }).toEqual({
      status: 400,
      detail: expect.stringContaining('unknown field "user" (the parameters are "query", "candidates"'),
    })
  })
})
