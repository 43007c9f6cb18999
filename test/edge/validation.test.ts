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
})
