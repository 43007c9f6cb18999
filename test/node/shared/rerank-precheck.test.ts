import { describe, expect, it } from 'vitest'
import anonymous from '../../fixtures/requests/anonymous.json'
import history from '../../fixtures/requests/history.json'
import unknownItems from '../../fixtures/requests/unknown-items.json'
import unknownQuery from '../../fixtures/requests/unknown-query.json'
import userId from '../../fixtures/requests/user-id.json'
import { MAX_CANDIDATES, RerankRequest } from '../../../functions/shared/rerank-api.ts'
import { precheckRerankRequest } from '../../../functions/shared/rerank-precheck.ts'

const FIXTURES: Record<string, unknown> = {
  anonymous,
  history,
  'unknown-items': unknownItems,
  'unknown-query': unknownQuery,
  'user-id': userId,
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i${i}`)

/** Valid requests the fast path should take, beyond the fixtures: every optional member and form. */
const VALID: Record<string, unknown> = {
  'plain ids': { query: 'red dress', candidates: ['a', 'b'] },
  'object candidates with and without a score': { query: 'x', candidates: [{ id: 'a', score: -1.5 }, { id: 'b' }] },
  'mixed candidate forms': { query: 'x', candidates: ['a', { id: 'b', score: 0 }] },
  'a query normalized (NFKC, case, spaces)': { query: '  Ｒed\t\tDRESS ', candidates: ['a'] },
  'k and mode': { query: 'x', candidates: ['a', 'b'], k: 1, mode: 'edge' },
  'mode full': { query: 'x', candidates: ['a'], mode: 'full' },
  'an empty user': { query: 'x', candidates: ['a'], user: {} },
  'a user id and a history': { query: 'x', candidates: ['a'], user: { id: 'u-1', history: ['b', 'c'] } },
  'an empty history': { query: 'x', candidates: ['a'], user: { history: [] } },
  'the most candidates': { query: 'x', candidates: ids(MAX_CANDIDATES), k: MAX_CANDIDATES },
  'members in another order': { mode: 'auto', k: 2, candidates: ['a', 'b'], query: 'x' },
}

/** Invalid requests: the fast path must hand each to the schema (which refuses it). */
const INVALID: Record<string, unknown> = {
  'not an object': ['x'],
  null: null,
  'an unknown member': { query: 'x', candidates: ['a'], extra: 1 },
  'no query': { candidates: ['a'] },
  'a query of spaces': { query: '   ', candidates: ['a'] },
  'a query too long once normalized': { query: 'ﷺ'.repeat(20), candidates: ['a'] },
  'a lone surrogate in the query': { query: 'x\ud800', candidates: ['a'] },
  'no candidates': { query: 'x', candidates: [] },
  'too many candidates': { query: 'x', candidates: ids(MAX_CANDIDATES + 1) },
  'a repeated id': { query: 'x', candidates: ['a', { id: 'a' }] },
  'a bad item id': { query: 'x', candidates: ['a b'] },
  'a number as a candidate': { query: 'x', candidates: [7] },
  'a string score': { query: 'x', candidates: [{ id: 'a', score: '1' }] },
  'an unknown candidate member': { query: 'x', candidates: [{ id: 'a', rank: 1 }] },
  'k of 0': { query: 'x', candidates: ['a'], k: 0 },
  'k not whole': { query: 'x', candidates: ['a'], k: 1.5 },
  'k too large': { query: 'x', candidates: ['a'], k: MAX_CANDIDATES + 1 },
  'an unknown mode': { query: 'x', candidates: ['a'], mode: 'fast' },
  'an empty user id': { query: 'x', candidates: ['a'], user: { id: '' } },
  'a user id too long': { query: 'x', candidates: ['a'], user: { id: 'u'.repeat(129) } },
  'a bad history id': { query: 'x', candidates: ['a'], user: { history: ['ok', '?'] } },
  'an unknown user member': { query: 'x', candidates: ['a'], user: { name: 'x' } },
  'a user that is a string': { query: 'x', candidates: ['a'], user: 'u-1' },
}

describe('precheckRerankRequest: the schema fast path', () => {
  for (const [name, request] of Object.entries({ ...FIXTURES, ...VALID }))
    it(`takes "${name}" and returns exactly what the schema returns`, () => {
      const fast = precheckRerankRequest(structuredClone(request))
      expect(fast).toBeDefined()
      expect(JSON.stringify(fast)).toBe(JSON.stringify(RerankRequest.parse(structuredClone(request))))
    })

  for (const [name, request] of Object.entries(INVALID))
    it(`leaves "${name}" to the schema, which refuses it`, () => {
      expect(precheckRerankRequest(structuredClone(request))).toBeUndefined()
      expect(RerankRequest.safeParse(structuredClone(request)).success).toBe(false)
    })
})
