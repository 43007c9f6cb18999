import { describe, expect, it } from 'vitest'
import { call, FIXTURES } from './harness.ts'

// The bad-input matrix: each gets a 4xx problem+json naming the field at fault.
const ok = { query: 'red dress', candidates: ['i000001', 'i000002'] }
const many = (n: number) => Array.from({ length: n }, (_, i) => `i${String(i).padStart(6, '0')}`)

const cases: [string, unknown, number, string][] = [
  ['query missing', { candidates: ['a'] }, 400, 'query'],
  ['query empty after trim', { ...ok, query: '   ' }, 400, 'query'],
  ['query too long', { ...ok, query: 'x'.repeat(257) }, 400, 'query'],
  ['query not a string', { ...ok, query: 42 }, 400, 'query'],
  ['candidates missing', { query: 'q' }, 400, 'candidates'],
  ['no candidates', { ...ok, candidates: [] }, 400, 'candidates'],
  ['201 candidates', { ...ok, candidates: many(201) }, 400, 'candidates'],
  ['duplicate ids', { ...ok, candidates: ['a', 'b', 'a'] }, 400, 'candidates.2'],
  ['id with a bad character', { ...ok, candidates: ['ok', 'no spaces'] }, 400, 'candidates.1'],
  ['id too long', { ...ok, candidates: ['a'.repeat(65)] }, 400, 'candidates.0'],
  [
    'object candidate with a non-numeric score',
    { ...ok, candidates: [{ id: 'a', score: 'high' }] },
    400,
    'candidates.0',
  ],
  ['object candidate with an unknown field', { ...ok, candidates: [{ id: 'a', price: 3 }] }, 400, 'candidates.0'],
  ['k zero', { ...ok, k: 0 }, 400, 'k'],
  ['k fractional', { ...ok, k: 1.5 }, 400, 'k'],
  ['k too large', { ...ok, k: 201 }, 400, 'k'],
  ['unknown mode', { ...ok, mode: 'fast' }, 400, 'mode'],
  ['history not a list', { ...ok, user: { history: 'i000001' } }, 400, 'user.history'],
  ['history id malformed', { ...ok, user: { history: ['fine', 'not fine!'] } }, 400, 'user.history.1'],
  ['empty user id', { ...ok, user: { id: '' } }, 400, 'user.id'],
  ['unknown top-level field', { ...ok, limit: 3 }, 400, '(body)'],
  ['body is an array', [ok], 400, '(body)'],
]

describe('bad input', () => {
  for (const [what, body, status, field] of cases)
    it(`${what} → ${status} naming ${field}`, async () => {
      const { res, body: problem } = await call(body as never)
      expect(res.status).toBe(status)
      expect(res.headers.get('Content-Type')).toBe('application/problem+json')
      expect(problem.status).toBe(status)
      expect(problem.field).toBe(field)
      expect(problem.detail).toEqual(expect.any(String))
    })

  it('malformed JSON → 400 on the body', async () => {
    const { res, body } = await call('{"query": "red dress", ')
    expect(res.status).toBe(400)
    expect(body).toMatchObject({ field: '(body)', detail: expect.stringMatching(/JSON/) })
  })

  it('a body over the limit → 413', async () => {
    const { res, body } = await call({ ...ok, query: 'x'.repeat(70_000) })
    expect(res.status).toBe(413)
    expect(body.field).toBe('(body)')
  })

  it('a non-JSON content type → 415', async () => {
    const { res, body } = await call(JSON.stringify(ok), { headers: { 'Content-Type': 'text/plain' } })
    expect(res.status).toBe(415)
    expect(body.field).toBe('(body)')
  })

  it('the GET form names the same fields', async () => {
    const { res, body } = await call(null, { method: 'GET', path: '/v1/rerank?query=dress&candidates=a,a' })
    expect(res.status).toBe(400)
    expect(body.field).toBe('candidates.1')
    expect((await call(null, { method: 'GET', path: '/v1/rerank?candidates=a' })).body.field).toBe('query')
  })

  it('a valid request is not refused (control)', async () => {
    const { res } = await call(FIXTURES.anonymous.request, { vars: { CACHE_TTL_S: '0' } })
    expect(res.status).toBe(200)
  })
})
