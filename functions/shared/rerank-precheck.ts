/**
 * A fast structural check of the common, valid re-rank request, taken before the schema
 * (rerank-api.ts `RerankRequest`). It accepts only what the schema accepts and returns what the
 * schema would return; for anything else it returns `undefined` and the schema decides, so every
 * error message still comes from one place. zod's general machinery (issue objects, a union tried
 * per candidate, transforms) costs more than the rest of a request's validation together, and a
 * storefront's requests are nearly always valid.
 *
 * test/node/shared/rerank-precheck.test.ts holds it to the schema on valid and invalid requests alike.
 */
import { normalizeQuery } from './query-text.ts'
import { ITEM_ID, MAX_CANDIDATES, MAX_HISTORY_INPUT, type Candidate, type RerankRequest } from './rerank-api.ts'

const REQUEST_KEYS = new Set(['query', 'candidates', 'user', 'k', 'mode'])
const USER_KEYS = new Set(['id', 'session', 'history'])
const CANDIDATE_KEYS = new Set(['id', 'score'])
const MODES = new Set(['auto', 'edge', 'full'])

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function onlyKeys(o: Json, allowed: Set<string>): boolean {
  for (const key in o) if (!allowed.has(key)) return false
  return true
}

const isOpaqueId = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 128 && v.isWellFormed()

const isItemId = (v: unknown): v is string => typeof v === 'string' && ITEM_ID.test(v)

function query(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.isWellFormed()) return undefined
  const text = normalizeQuery(v)
  return text.length >= 1 && text.length <= 256 ? text : undefined
}

/** The candidates as the schema outputs them, or undefined (a bad form, a repeated id, a bad count). */
function candidates(v: unknown): Candidate[] | undefined {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_CANDIDATES) return undefined
  const out: Candidate[] = new Array(v.length)
  const seen = new Set<string>()
  for (let i = 0; i < v.length; i++) {
    const c: unknown = v[i]
    let candidate: Candidate
    if (typeof c === 'string') {
      if (!ITEM_ID.test(c)) return undefined
      candidate = { id: c }
    } else if (isObject(c)) {
      const { id, score } = c
      if (!isItemId(id) || !onlyKeys(c, CANDIDATE_KEYS)) return undefined
      if (score === undefined) candidate = { id }
      else if (typeof score === 'number' && Number.isFinite(score)) candidate = { id, score }
      else return undefined
    } else return undefined
    if (seen.has(candidate.id)) return undefined
    seen.add(candidate.id)
    out[i] = candidate
  }
  return out
}

/** The user as the schema outputs it; `null` when the value is not one the schema accepts. */
function user(v: unknown): RerankRequest['user'] | null {
  if (v === undefined) return undefined
  if (!isObject(v) || !onlyKeys(v, USER_KEYS)) return null
  const out: NonNullable<RerankRequest['user']> = {}
  const { id, session, history } = v
  if (id !== undefined) {
    if (!isOpaqueId(id)) return null
    out.id = id
  }
  if (session !== undefined) {
    if (!isOpaqueId(session)) return null
    out.session = session
  }
  if (history !== undefined) {
    if (!Array.isArray(history) || history.length > MAX_HISTORY_INPUT || !history.every(isItemId)) return null
    out.history = history.slice()
  }
  return out
}

const isK = (v: unknown) =>
  v === undefined || (Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_CANDIDATES)

/**
 * The parsed request when `json` is a valid request of the usual shape; `undefined` when the
 * schema must look (it then accepts it the same way, or words the error).
 *
 * @example
 * const req = precheckRerankRequest(json) ?? RerankRequest.parse(json)
 */
export function precheckRerankRequest(json: unknown): RerankRequest | undefined {
  if (!isObject(json) || !onlyKeys(json, REQUEST_KEYS)) return undefined
  const q = query(json.query)
  const list = q === undefined ? undefined : candidates(json.candidates)
  const u = list === undefined ? null : user(json.user)
  const { k, mode = 'auto' } = json
  if (q === undefined || list === undefined || u === null || !isK(k) || !MODES.has(mode as string)) return undefined
  // Members in the schema's order, as its output has them.
  return {
    query: q,
    candidates: list,
    ...(u !== undefined && { user: u }),
    ...(k !== undefined && { k: k as number }),
    mode: mode as RerankRequest['mode'],
  }
}
