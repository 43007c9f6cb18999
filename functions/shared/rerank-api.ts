/**
 * The public re-rank contract (DESIGN.md "The public API"), one schema for the edge, the origin
 * and every client in this repo. zod gives each error a path, which becomes the problem's `field`.
 */
import { z } from 'zod'
import { normalizeQuery } from './query-text.ts'

export const MAX_CANDIDATES = 200
export const MAX_HISTORY_INPUT = 200
export const ITEM_ID = /^[A-Za-z0-9._:-]{1,64}$/

const ItemId = z.string().regex(ITEM_ID, 'an item id is 1–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"')

// The object form first: a union tries its members in order, and a failed try costs an issue object.
const CandidateInput = z.union([z.strictObject({ id: ItemId, score: z.number().optional() }), ItemId], {
  error: 'a candidate is an item id or { "id": string, "score"?: number }',
})
type CandidateInput = z.input<typeof CandidateInput>

/** A candidate's id, in either input form. */
export const candidateId = (c: CandidateInput): string => (typeof c === 'string' ? c : c.id)

/** Parsed, every candidate is `{ id, score? }` (the retrieval score when the caller gave one). */
const Candidate = CandidateInput.transform((c) => (typeof c === 'string' ? { id: c } : c))
export type Candidate = z.output<typeof Candidate>

/** Lone surrogates would collapse to U+FFFD in keys and hashes: two ids, one key. */
const wellFormed = (s: string) => s.isWellFormed()

const Mode = z.enum(['auto', 'edge', 'full'])

export const RerankRequest = z.strictObject({
  // Normalized once here, as KV keys and cache keys need it: "  Red  Dress" and "red dress" are one query.
  query: z
    .string()
    .refine(wellFormed, 'query is not well-formed Unicode (it holds a lone surrogate)')
    .transform(normalizeQuery)
    // Limits hold for what is used: the normalized text (NFKC can lengthen a string many times).
    .pipe(z.string().min(1, 'query is empty').max(256, 'query is longer than 256 characters after normalization')),
  candidates: z
    .array(Candidate)
    .min(1, 'at least one candidate is needed')
    .max(MAX_CANDIDATES, `at most ${MAX_CANDIDATES} candidates`)
    .superRefine((list, ctx) => {
      const seen = new Set<string>()
      list.forEach(({ id }, i) => {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate candidate id "${id}"`, path: [i] })
        seen.add(id)
      })
    }),
  user: z
    .strictObject({
      id: z
        .string()
        .min(1, 'user id is empty')
        .max(128, 'user id is longer than 128 characters')
        .refine(wellFormed, 'user id is not well-formed Unicode (it holds a lone surrogate)')
        .optional(),
      history: z.array(ItemId).max(MAX_HISTORY_INPUT, `at most ${MAX_HISTORY_INPUT} history items`).optional(),
    })
    .optional(),
  k: z
    .number()
    .int('k must be an integer')
    .min(1, 'k must be ≥ 1')
    .max(MAX_CANDIDATES, `k must be ≤ ${MAX_CANDIDATES}`)
    .optional(),
  mode: Mode.default('auto'),
})
export type RerankRequest = z.output<typeof RerankRequest>
export type RerankRequestInput = z.input<typeof RerankRequest>

export const RerankPath = z.enum(['edge', 'origin', 'passthrough'])

export const RerankResponse = z.object({
  items: z.array(z.object({ id: ItemId, score: z.number().nullable() })),
  path: RerankPath,
  // It becomes the X-Model-Version header: a release name, never free text.
  model: z.string().regex(/^[\w.-]{1,64}$/, 'a model version is 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-"'),
  degraded: z.array(z.string()).optional(),
})
export type RerankResponse = z.output<typeof RerankResponse>
export type RerankPath = z.output<typeof RerankPath>

/**
 * Where a request's history comes from: given in it (its newest `limit` items), the stored history
 * of a user id (KV holds it), or nowhere. A given history wins over a user id.
 */
export type HistorySource = { given: string[] } | { userId: string } | null

export function historySource(req: RerankRequest, limit: number): HistorySource {
  if (req.user?.history !== undefined) return { given: req.user.history.slice(0, limit) }
  if (req.user?.id !== undefined) return { userId: req.user.id }
  return null
}

/** "candidates.3.id" style path of the first issue, and its message. */
export function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): {
  field: string
  detail: string
} {
  const issue = error.issues[0]
  if (!issue) return { field: '', detail: 'invalid request' }
  const field = issue.path.map(String).join('.') || '(body)'
  return { field, detail: `${field}: ${issue.message}` }
}
