/**
 * The one API contract suite for `POST /v1/rerank`, passed by the edge (in workerd) and by the
 * origin (in Node, over HTTP), as Hono's adapters pass one suite: the same requests validate, the
 * same bad ones fail with the same problem+json fields, and valid ones answer with the same schema.
 */
import { describe, expect, it } from 'vitest'
import { RerankResponse } from '../../functions/shared/rerank-api.ts'
import anonymous from '../fixtures/requests/anonymous.json'

export interface ContractTarget {
  /** Which runtime, for the test names. */
  name: string
  /** The path its full answers take. */
  path: 'edge' | 'origin'
  /** POSTs `body` (a string as is, else JSON) to /v1/rerank with the target's own credentials. */
  post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; body: any }>
}

const ok = { query: 'red dress', candidates: ['i000001', 'i000002'] }
const many = (n: number) => Array.from({ length: n }, (_, i) => `i${String(i).padStart(6, '0')}`)

/** The bad-input matrix: each gets a 4xx problem+json naming the field at fault. */
export const BAD_INPUT: [string, unknown, number, string][] = [
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
  ['user id with a lone surrogate', { ...ok, user: { id: 'shopper\ud800' } }, 400, 'user.id'],
  ['query with a lone surrogate', { ...ok, query: 'red \udc00dress' }, 400, 'query'],
  ['query within 256 characters that normalizes past them', { ...ok, query: '\ufdfa'.repeat(256) }, 400, 'query'],
  ['unknown top-level field', { ...ok, limit: 3 }, 400, '(body)'],
  ['body is an array', [ok], 400, '(body)'],
]

export function rerankContract(target: ContractTarget): void {
  describe(`the /v1/rerank contract (${target.name})`, () => {
    for (const [what, body, status, field] of BAD_INPUT)
      it(`${what} → ${status} naming ${field}`, async () => {
        const res = await target.post(body)
        expect(res.status).toBe(status)
        expect(res.headers.get('Content-Type')).toBe('application/problem+json')
        expect(res.body).toMatchObject({ type: 'about:blank', status, field, detail: expect.any(String) })
      })

    it('a body with several bad fields names each: `field` the first, `errors` all', async () => {
      const res = await target.post({ ...ok, k: 500, mode: 'fast' })
      expect(res.status).toBe(400)
      expect(res.body.field).toBe('k')
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['k', 'mode'])
    })

    it("no bad input is answered in the validator's own words", async () => {
      const raw = /Invalid input|Invalid option|Unrecognized key|expected \w+, received|^(\S+): \1 /
      for (const [, body] of BAD_INPUT) expect((await target.post(body)).body.detail).not.toMatch(raw)
    })

    it('every bad input lists the field it names in `errors`, with a detail', async () => {
      for (const [, body, , field] of BAD_INPUT)
        expect((await target.post(body)).body.errors[0]).toEqual({ field, detail: expect.stringMatching(/\S/) })
    })

    it('malformed JSON → 400 on the body', async () => {
      const res = await target.post('{"query": "red dress", ')
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ field: '(body)', detail: expect.stringMatching(/JSON/) })
    })

    it('an empty body → 400 saying so', async () => {
      const res = await target.post('')
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ field: '(body)', detail: expect.stringMatching(/^empty body/) })
    })

    for (const type of ['application/json-seq', 'application/json, text/plain', 'text/json'])
      it(`Content-Type ${type} → 415`, async () => {
        const res = await target.post(JSON.stringify(ok), { 'Content-Type': type })
        expect(res.status).toBe(415)
      })

    it('Content-Type application/json; charset=utf-8 is JSON', async () => {
      const res = await target.post({ ...anonymous, k: 1 }, { 'Content-Type': 'application/json; charset=utf-8' })
      expect(res.status).toBe(200)
    })

    it('a body over the limit → 413', async () => {
      const res = await target.post({ ...ok, query: 'x'.repeat(70_000) })
      expect(res.status).toBe(413)
      expect(res.body.field).toBe('(body)')
    })

    it('a non-JSON content type → 415', async () => {
      const res = await target.post(JSON.stringify(ok), { 'Content-Type': 'text/plain' })
      expect(res.status).toBe(415)
      expect(res.body.field).toBe('(body)')
    })

    it(`a valid request → 200 in the answer schema, path ${target.path}, k of the asked ids`, async () => {
      const res = await target.post({ ...anonymous, k: 9 })
      expect(res.status).toBe(200)
      const answer = RerankResponse.parse(res.body)
      expect(answer).toMatchObject({ path: target.path })
      expect(answer.degraded).toBeUndefined()
      expect(answer.items).toHaveLength(9)
      const asked = new Set(anonymous.candidates.map((c) => c.id))
      for (const item of answer.items) expect(asked.has(item.id) && typeof item.score === 'number').toBe(true)
      expect(res.headers.get('X-Rerank-Path')).toBe(target.path)
      expect(res.headers.get('X-Model-Version')).toBe(answer.model)
    })

    it('an answer ranks by score, descending', async () => {
      const { body } = await target.post(anonymous)
      const scores = (body.items as { score: number }[]).map((i) => i.score)
      expect(scores).toEqual([...scores].sort((a, b) => b - a))
    })
  })
}
