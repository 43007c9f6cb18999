import { Hono, type Context } from 'hono'
import { requestId } from 'hono/request-id'
import { describe, expect, it, vi } from 'vitest'
import {
  invalidRequest,
  MAX_LISTED_PROBLEMS,
  onError,
  problemResponse,
  type Problem,
} from '../../../functions/http/problem.ts'
import { requestLog } from '../../../functions/http/request-log.ts'
import { fieldProblems, RerankRequest, type FieldProblem } from '../../../functions/shared/rerank-api.ts'

describe('the shared error path', () => {
  it('an unhandled error is a problem+json 500, and its log line carries the request id', async () => {
    const app = new Hono()
      .use(requestId())
      .use(requestLog())
      .get('/boom', () => {
        throw new Error('kaput')
      })
    app.onError(onError)
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const res = await app.request('/boom', { headers: { 'X-Request-Id': 'req-boom-1' } })
      expect(res.status).toBe(500)
      expect(res.headers.get('Content-Type')).toBe('application/problem+json')
      const line = JSON.parse(String(error.mock.calls[0][0]))
      expect(line).toMatchObject({ level: 'error', msg: 'unhandled', request_id: 'req-boom-1', error: 'Error: kaput' })
    } finally {
      error.mockRestore()
      log.mockRestore()
    }
  })
})

/** The body and the log line of a problem built by `respond` inside a Hono route. */
async function problemOf(respond: (c: Context) => Response) {
  const app = new Hono().use(requestId()).use(requestLog()).post('/p', respond)
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    const res = await app.request('/p', { method: 'POST' })
    return { status: res.status, body: (await res.json()) as Problem, line: JSON.parse(String(log.mock.calls[0][0])) }
  } finally {
    log.mockRestore()
  }
}

const problems = (n: number): FieldProblem[] =>
  Array.from({ length: n }, (_, i) => ({ field: `candidates.${i}`, detail: `candidates.${i}: bad` }))

describe('a problem that names fields', () => {
  it('a problem naming one field lists it in errors', async () => {
    const { body } = await problemOf((c) =>
      problemResponse(c, { status: 415, title: 'Unsupported Media Type', field: '(body)', detail: 'send JSON' }),
    )
    expect(body.errors).toEqual([{ field: '(body)', detail: 'send JSON' }])
  })

  it('an invalid request keeps the first field in `field` and lists every one in `errors`', async () => {
    const { status, body } = await problemOf((c) => invalidRequest(c, problems(2)))
    expect(status).toBe(400)
    expect(body).toMatchObject({ title: 'Invalid request', field: 'candidates.0', errors: problems(2) })
  })

  it("an invalid request's detail names every problem", async () => {
    const { body } = await problemOf((c) => invalidRequest(c, problems(2)))
    expect(body.detail).toBe('candidates.0: bad; candidates.1: bad')
  })

  it('past the listing limit, the rest are counted rather than listed', async () => {
    const { body } = await problemOf((c) => invalidRequest(c, problems(MAX_LISTED_PROBLEMS + 3)))
    expect(body.errors).toHaveLength(MAX_LISTED_PROBLEMS)
    expect(body.detail).toMatch(/; and 3 more$/)
  })

  it('the log line names the fields at fault, never their values', async () => {
    const { line } = await problemOf((c) => invalidRequest(c, problems(2)))
    expect(line).toMatchObject({
      problem: 'Invalid request',
      field: 'candidates.0',
      fields: ['candidates.0', 'candidates.1'],
    })
    expect(JSON.stringify(line)).not.toMatch(/bad/)
  })
})

describe('a bad request, in the words of the schema', () => {
  const ok = { query: 'red dress', candidates: ['i000001', 'i000002'] }
  const details = (body: unknown) => fieldProblems(RerankRequest.safeParse(body).error!).map((p) => p.detail)

  it('names every invalid field, not only the first', () => {
    expect(fieldProblems(RerankRequest.safeParse({ ...ok, k: 500, mode: 'fast' }).error!).map((p) => p.field)).toEqual([
      'k',
      'mode',
    ])
  })

  it('a missing field is required, not "expected string, received undefined"', () => {
    expect(details({ candidates: ['a'] })).toEqual(["query: required (a string: the shopper's search text)"])
  })

  it('a field of the wrong type says what it must be and what it got', () => {
    expect(details({ ...ok, query: 42 })).toEqual(['query: must be a string, not a number'])
  })

  it('an empty query names the field once', () => {
    expect(details({ ...ok, query: '   ' })).toEqual(['query: must not be empty (spaces are trimmed)'])
  })

  it('a value out of range echoes what was sent', () => {
    expect(details({ ...ok, k: 500 })).toEqual(['k: must be between 1 and 200 (got 500)'])
  })

  it('an unknown mode lists the modes there are', () => {
    expect(details({ ...ok, mode: 'fast' })).toEqual(['mode: must be "auto", "edge" or "full" (got "fast")'])
  })

  it('an unknown field is named, with the fields there are', () => {
    expect(details({ ...ok, limit: 3 })).toEqual([
      '(body): unknown field "limit" (the fields are "query", "candidates", "user", "k" and "mode")',
    ])
  })

  it('a repeated candidate points at its first occurrence', () => {
    expect(details({ ...ok, candidates: ['a', 'b', 'a'] })).toEqual([
      'candidates.2: repeats the id "a" of candidates.0',
    ])
  })

  it('a candidate object says which of its members is wrong', () => {
    expect(details({ ...ok, candidates: [{ id: 'a', score: 'high' }] })).toEqual([
      'candidates.0: must be an item id or {"id": "…", "score"?: number} (score: must be a number, not a string)',
    ])
  })
})
