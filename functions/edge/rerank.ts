/**
 * One re-rank, after validation: fetch → plan → score → respond. Each step is a function here;
 * the route only wires them to HTTP. Faults never throw out of `rerank`: each adds a reason, the
 * next path is tried (edge head, origin), and the last resort is the input order ("passthrough").
 */
import { rankByScore, rankItems, retrievalOrder } from '../shared/ranking.ts'
import type { Candidate, RerankPath, RerankRequest, RerankResponse } from '../shared/rerank-api.ts'
import type { EdgeConfig } from './config.ts'
import { KvUnavailable, type EmbeddingStore, type Lookup } from './embedding-store.ts'
import { OriginFailure, type OriginClient } from './origin-client.ts'
import type { HeadFeatures } from '../shared/head-inputs.ts'
import { HeadUnavailable, type RerankHead } from './head/rerank-head.ts'
import type { ResolvedRequest } from './resolved-request.ts'

/** Why an answer is not the full edge (or origin) answer: the `degraded` reasons docs/api.md lists. */
export type Reason =
  | 'kv_unavailable'
  | 'history_unavailable'
  | 'query_without_embedding'
  | 'candidates_without_embedding'
  | 'too_many_candidates_without_embedding'
  | 'corrupt_embedding'
  | 'head_unavailable'
  | OriginFailure['reason']

/** Reasons that concern only the edge head's inputs: an origin answer does not suffer them. */
const EDGE_ONLY: ReadonlySet<Reason> = new Set([
  'head_unavailable',
  'kv_unavailable',
  'query_without_embedding',
  'candidates_without_embedding',
  'too_many_candidates_without_embedding',
  'corrupt_embedding',
])

export interface RerankDeps {
  store: EmbeddingStore
  head: RerankHead
  origin: OriginClient
  config: EdgeConfig
  /** Release version of the edge (manifest `version`). */
  model: string
  /** Epoch ms by which the origin must have answered. */
  deadlineAt: number
  /** The request's id, forwarded to the origin. */
  requestId?: string
  /** Runs `fn` as the named Server-Timing span. */
  time: <T>(name: 'kv' | 'infer' | 'origin', fn: () => Promise<T>) => Promise<T>
  /** Structured detail for the request's log line. */
  note: (fields: Record<string, unknown>) => void
}

export interface Answer {
  body: RerankResponse
  /** Only full, undegraded answers go into the cache: a cached fault would outlive the fault. */
  cacheable: boolean
  /** Why the edge did not answer itself, when the origin did. */
  fallback: Reason[]
}

/** What the KV lookup gave this request. */
export interface Fetched {
  lookup: Lookup | null
  /** The candidates with an item record (in request order), and those without. */
  known: Candidate[]
  missing: Candidate[]
  history: string[]
  /** Why the lookup fell short. */
  reasons: Reason[]
}

// ---- fetch: records and history from KV ------------------------------------------------------

async function fetchInputs(r: ResolvedRequest, d: RerankDeps): Promise<Fetched> {
  const req = r.request
  const reasons: Reason[] = []
  const given = r.history && 'given' in r.history ? r.history.given : undefined
  // A user id buys its stored history only with proof the storefront issued it (or by explicit
  // trust), and only under the keyed user hash; otherwise no history is read at all.
  const hKey = r.asker === 'user_id' ? r.user?.historyKey : undefined
  if (r.asker === 'user_id' && !hKey) {
    reasons.push('history_unavailable')
    d.note(r.proven ? { user_key_secret: 'missing' } : { user_token: r.proof ?? 'missing' })
  }
  let lookup: Lookup | null = null
  try {
    lookup = await d.time('kv', () =>
      d.store.lookup({
        query: req.query,
        ids: req.candidates.map((c) => c.id),
        history: given,
        historyKey: hKey,
        historyLimit: d.config.HISTORY_LIMIT,
      }),
    )
  } catch (e) {
    if (!(e instanceof KvUnavailable)) throw e
    d.note({ kv_error: e.message })
    reasons.push('kv_unavailable')
    // With only a user id, the history lived in KV: personalization is lost.
    if (hKey !== undefined) reasons.push('history_unavailable')
  }
  if (lookup) {
    d.note({ kv_reads: lookup.reads, lru_hits: lookup.lruHits })
    if (lookup.corrupt.length) (reasons.push('corrupt_embedding'), d.note({ corrupt_keys: lookup.corrupt.length }))
    if (lookup.historyCorrupt) (reasons.push('history_unavailable'), d.note({ corrupt_history: true }))
  }
  const known: Candidate[] = []
  const missing: Candidate[] = []
  for (const c of req.candidates) (lookup?.items.has(c.id) ? known : missing).push(c)
  return { lookup, known, missing, history: given ?? lookup?.history ?? [], reasons }
}

// ---- plan: which paths to try, in order ------------------------------------------------------

type Attempt = 'edge' | 'origin'

export interface Plan {
  /** The paths to try, in order; passthrough follows them all. */
  attempts: Attempt[]
  /** What the fetched inputs lack, for the answer's `degraded`. */
  reasons: Reason[]
}

/** Which paths to try, from what the lookup found: pure, it changes nothing it is handed. */
export function plan(mode: RerankRequest['mode'], f: Fetched, maxMissingShare: number): Plan {
  const reasons: Reason[] = []
  const canEdge = f.lookup?.query != null && f.known.length > 0
  if (f.lookup && !f.lookup.query) reasons.push('query_without_embedding')
  let edgeGood = canEdge
  const total = f.known.length + f.missing.length
  if (f.lookup?.query && f.missing.length / total > maxMissingShare)
    (reasons.push('too_many_candidates_without_embedding'), (edgeGood = false))
  else if (canEdge && f.missing.length) reasons.push('candidates_without_embedding')
  const order: Attempt[] =
    mode === 'full'
      ? ['origin', 'edge']
      : mode === 'edge'
        ? ['edge']
        : edgeGood
          ? ['edge', 'origin']
          : ['origin', 'edge']
  // An edge attempt needs a query vector and at least one candidate record.
  return { attempts: canEdge ? order : order.filter((a) => a !== 'edge'), reasons }
}

// ---- score: the edge head, or the origin -----------------------------------------------------

/** What the head reads for a request: the query vector, the known candidates' records in list
 *  order, and the history's records (history items without a vector are skipped). */
export function headFeatures(lookup: Lookup, candidates: string[], history: string[]): HeadFeatures {
  return {
    query: lookup.query!,
    items: candidates.map((id) => lookup.items.get(id)!),
    history: history.flatMap((id) => lookup.items.get(id) ?? []),
  }
}

/** A scorer's outcome: an answer, or the reason it gave none. */
type Scored = { answer: Answer } | { failed: Reason }

async function scoreAtEdge(req: RerankRequest, f: Fetched, reasons: Reason[], d: RerankDeps): Promise<Scored> {
  const lookup = f.lookup!
  const features = headFeatures(
    lookup,
    f.known.map((c) => c.id),
    f.history,
  )
  // The log line says how many history items had no vector.
  if (features.history.length < f.history.length)
    d.note({ history_without_embedding: f.history.length - features.history.length })
  let scores: Float32Array
  try {
    scores = await d.time('infer', () => d.head.score(features))
  } catch (e) {
    if (!(e instanceof HeadUnavailable)) throw e
    d.note({ head_error: e.message })
    return { failed: 'head_unavailable' }
  }
  const ranked = rankByScore(f.known.map((c, i) => ({ id: c.id, score: scores[i] })))
  const unscored = f.missing.map((c) => ({ id: c.id, score: null }))
  return { answer: respond('edge', [...ranked, ...unscored], req, d.model, reasons, []) }
}

async function scoreAtOrigin(req: RerankRequest, f: Fetched, reasons: Reason[], d: RerankDeps): Promise<Scored> {
  try {
    const answer = await d.time('origin', () =>
      d.origin.rerank({
        body: {
          // Only what the cache key holds, so one key means one answer whatever the origin reads:
          // the normalized query, the candidates' ids in id order (no caller order, no retrieval
          // scores), the resolved history.
          query: req.query,
          candidates: req.candidates.map((c) => c.id).sort(),
          ...(f.history.length ? { user: { history: f.history } } : {}),
          ...(req.k !== undefined ? { k: req.k } : {}),
          mode: 'full',
        },
        asked: new Set(req.candidates.map((c) => c.id)),
        expected: Math.min(req.k ?? req.candidates.length, req.candidates.length),
        deadlineAt: d.deadlineAt,
        requestId: d.requestId,
      }),
    )
    const degraded = [...reasons.filter((r) => !EDGE_ONLY.has(r)), ...(answer.degraded ?? [])]
    const fallback = req.mode === 'full' ? [] : [...reasons]
    return { answer: respond('origin', rankItems(answer.items), req, answer.model, degraded, fallback) }
  } catch (e) {
    if (!(e instanceof OriginFailure)) throw e
    d.note({ origin_error: e.message })
    return { failed: e.reason }
  }
}

// ---- respond ---------------------------------------------------------------------------------

function respond(
  path: RerankPath,
  items: RerankResponse['items'],
  req: RerankRequest,
  model: string,
  reasons: string[],
  fallback: Reason[],
): Answer {
  const degraded = [...new Set(reasons)]
  return {
    body: { items: items.slice(0, req.k ?? items.length), path, model, ...(degraded.length ? { degraded } : {}) },
    cacheable: path !== 'passthrough' && degraded.length === 0,
    fallback,
  }
}

/** The last resort: the input order (functions/shared/ranking.ts). */
function passthrough(req: RerankRequest, reasons: Reason[], d: RerankDeps): Answer {
  return respond('passthrough', retrievalOrder(req.candidates), req, d.model, reasons, [])
}

export async function rerank(resolved: ResolvedRequest, d: RerankDeps): Promise<Answer> {
  const req = resolved.request
  const fetched = await fetchInputs(resolved, d)
  const planned = plan(req.mode, fetched, d.config.MAX_MISSING_SHARE)
  const reasons = [...fetched.reasons, ...planned.reasons]
  for (const attempt of planned.attempts) {
    const scored =
      attempt === 'origin' ? await scoreAtOrigin(req, fetched, reasons, d) : await scoreAtEdge(req, fetched, reasons, d)
    if ('answer' in scored) return scored.answer
    reasons.push(scored.failed)
  }
  return passthrough(req, reasons, d)
}
