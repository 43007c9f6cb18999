/**
 * The public re-rank contract (docs/api.md), one schema for the edge, the origin and every client
 * in this repo. zod gives each error a path, which becomes the problem's `field`; each schema
 * words its own errors, so a bad request reads as a storefront developer would write it.
 */
import { z } from 'zod'
import { normalizeQuery } from './query-text.ts'

export const MAX_CANDIDATES = 200
export const MAX_HISTORY_INPUT = 200
export const ITEM_ID = /^[A-Za-z0-9._:-]{1,64}$/

// ---- wording -------------------------------------------------------------------------------

type RawIssue = z.core.$ZodRawIssue

/** What a JSON value is, in words. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  const kinds: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    boolean: 'true/false',
    object: 'an object',
  }
  return kinds[typeof value] ?? typeof value
}

/** A short echo of what was sent, so the caller sees which value is meant. */
export function echo(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

/** Missing, or of the wrong JSON type: "required (a string: the shopper's search text)",
 *  "must be a string, not a number". */
export const expects =
  (what: string, about?: string) =>
  (iss: RawIssue): string | undefined => {
    if (iss.code !== 'invalid_type') return undefined
    if (iss.input === undefined) return `required (${about ? `${what}: ${about}` : what})`
    return `must be ${what}, not ${kindOf(iss.input)}`
  }

/** An object's unknown members, and what the object may hold. */
export const objectOf =
  (what: string, members: string) =>
  (iss: RawIssue): string | undefined => {
    if (iss.code === 'unrecognized_keys')
      return `unknown field${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')} (${members})`
    return expects(what)(iss)
  }

const ID_RULE = 'an item id: 1–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"'

export const ItemId = z
  .string({ error: expects('a string', 'an item id') })
  .regex(ITEM_ID, { error: (iss) => `must be ${ID_RULE} (got ${echo(iss.input)})` })

const CANDIDATE_FORMS = 'an item id or {"id": "…", "score"?: number}'

// The object form first: a union tries its members in order, and a failed try costs an issue object.
const CandidateInput = z.union(
  [
    z.strictObject(
      { id: ItemId, score: z.number({ error: expects('a number', 'the retrieval score') }).optional() },
      { error: objectOf(CANDIDATE_FORMS, 'a candidate object holds "id" and "score"') },
    ),
    ItemId,
  ],
  {
    // Both forms failed: for an object, say what in it is wrong (the object form's first issue).
    error: (iss) => {
      const inner = iss.code === 'invalid_union' ? iss.errors[0]?.[0] : undefined
      return inner && typeof iss.input === 'object' && iss.input !== null
        ? `must be ${CANDIDATE_FORMS} (${inner.path.map(String).join('.') || 'it'}: ${inner.message})`
        : `must be ${CANDIDATE_FORMS}, not ${kindOf(iss.input)}`
    },
  },
)
type CandidateInput = z.input<typeof CandidateInput>

/** A candidate's id, in either input form. */
export const candidateId = (c: CandidateInput): string => (typeof c === 'string' ? c : c.id)

/** Parsed, every candidate is `{ id, score? }` (the retrieval score when the caller gave one). */
const Candidate = CandidateInput.transform((c) => (typeof c === 'string' ? { id: c } : c))
export type Candidate = z.output<typeof Candidate>

/** Lone surrogates would collapse to U+FFFD in keys and hashes: two ids, one key. */
export const wellFormed = (s: string) => s.isWellFormed()
export const NOT_WELL_FORMED = 'must be well-formed Unicode (it holds a lone surrogate)'

/** A user id or a session id: opaque to us, keyed (HMAC) before it is stored anywhere. */
export const OpaqueId = z
  .string({ error: expects('a string') })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine(wellFormed, NOT_WELL_FORMED)

const MODES = ['auto', 'edge', 'full'] as const
const Mode = z.enum(MODES, { error: (iss) => `must be "auto", "edge" or "full" (got ${echo(iss.input)})` })

export const RerankRequest = z.strictObject(
  {
    // Normalized once here, as KV keys and cache keys need it: "  Red  Dress" and "red dress" are one query.
    query: z
      .string({ error: expects('a string', "the shopper's search text") })
      .refine(wellFormed, NOT_WELL_FORMED)
      .transform(normalizeQuery)
      // Limits hold for what is used: the normalized text (NFKC can lengthen a string many times).
      .pipe(
        z
          .string()
          .min(1, 'must not be empty (spaces are trimmed)')
          .max(256, {
            error: (iss) =>
              `must be at most 256 characters once normalized (NFKC, spaces collapsed; got ${String(iss.input).length})`,
          }),
      ),
    candidates: z
      .array(Candidate, { error: expects('a list', 'item ids or {"id", "score"} objects') })
      .min(1, 'must hold at least one candidate')
      .max(MAX_CANDIDATES, {
        error: (iss) => `must hold at most ${MAX_CANDIDATES} candidates (got ${(iss.input as unknown[]).length})`,
      })
      .superRefine((list, ctx) => {
        const first = new Map<string, number>()
        list.forEach(({ id }, i) => {
          const seen = first.get(id)
          if (seen !== undefined)
            ctx.addIssue({ code: 'custom', message: `repeats the id "${id}" of candidates.${seen}`, path: [i] })
          else first.set(id, i)
        })
      }),
    user: z
      .strictObject(
        {
          id: OpaqueId.optional(),
          // The page's own id for an anonymous visit: it ties the impressions it is shown to the
          // events it sends (POST /v1/events), and reads no history.
          session: OpaqueId.optional(),
          history: z
            .array(ItemId, { error: expects('a list of item ids, newest first') })
            .max(MAX_HISTORY_INPUT, {
              error: (iss) =>
                `must hold at most ${MAX_HISTORY_INPUT} item ids (got ${(iss.input as unknown[]).length})`,
            })
            .optional(),
        },
        {
          error: objectOf('an object {"id"?, "session"?, "history"?}', 'a user holds "id", "session" and "history"'),
        },
      )
      .optional(),
    k: z
      .number({ error: expects('a whole number') })
      .int({ error: (iss) => `must be a whole number (got ${echo(iss.input)})` })
      .min(1, { error: (iss) => `must be between 1 and ${MAX_CANDIDATES} (got ${echo(iss.input)})` })
      .max(MAX_CANDIDATES, { error: (iss) => `must be between 1 and ${MAX_CANDIDATES} (got ${echo(iss.input)})` })
      .optional(),
    mode: Mode.default('auto'),
  },
  {
    error: objectOf(
      'a JSON object {"query", "candidates", …}',
      'the fields are "query", "candidates", "user", "k" and "mode"',
    ),
  },
)
export type RerankRequest = z.output<typeof RerankRequest>
export type RerankRequestInput = z.input<typeof RerankRequest>

export const RerankPath = z.enum(['edge', 'origin', 'passthrough'])

export const RerankResponse = z.object({
  // The edge's own: every answer it serves, cache hits included, is logged under this id.
  answer_id: z.string().optional(),
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

/** One thing wrong with a request: the JSON path at fault ("candidates.3", "(body)") and what is wrong. */
export interface FieldProblem {
  field: string
  detail: string
}

type Issues = { issues: readonly { path: readonly PropertyKey[]; message: string }[] }

/** Every issue of a failed parse, in the schema's order, each as "field: what is wrong". */
export function fieldProblems(error: Issues): FieldProblem[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(body)'
    return { field, detail: `${field}: ${issue.message}` }
  })
}

/** The first issue of a failed parse (where one message is enough: a config var, an answer). */
export function firstIssue(error: Issues): FieldProblem {
  return fieldProblems(error)[0] ?? { field: '', detail: 'invalid request' }
}
