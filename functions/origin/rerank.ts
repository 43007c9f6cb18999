/**
 * The origin's re-rank, after validation: the full teacher over the catalog's raw features. The
 * route parses and formats; this takes a typed options object and a parsed request.
 *
 * - The query's vector is the catalog's, or the query encoder's for a query the catalog lacks (a
 *   tail query the edge could not score); a query neither knows is passed through.
 * - The history is the one the request carries (the edge forwards what it resolved). User stores
 *   live at the edge and user ids never leave it: a bare `user.id` is answered without
 *   personalization, and says so.
 * - Candidates the catalog lacks follow the scored ones, unscored.
 */
import { rankByScore, retrievalOrder } from '../shared/ranking.ts'
import { historySource, type RerankRequest, type RerankResponse } from '../shared/rerank-api.ts'
import type { QueryEncoder } from '../text-encoder/query-encoder.ts'
import type { BatchInfo } from './batcher.ts'
import type { OriginCatalog } from './catalog.ts'
import type { Teacher } from './teacher.ts'

export type OriginReason = 'history_unavailable' | 'query_without_embedding' | 'candidates_without_embedding'

export interface OriginRerankOptions {
  catalog: OriginCatalog
  /** For queries the catalog holds no vector for; without one, such queries pass through. */
  encoder?: QueryEncoder
  /** Scores a request's job through its batcher. */
  teacher: Pick<Teacher, 'score'>
  /** The release that answers (manifest `version`). */
  model: string
  /** History items the teacher reads (newest first). */
  historyLimit: number
}

export interface OriginAnswer {
  body: RerankResponse
  /** Structured detail for the request's log line (counts and sources, no user data). */
  notes: Record<string, unknown>
  batch?: BatchInfo
}

function respond(
  items: RerankResponse['items'],
  req: RerankRequest,
  model: string,
  path: 'origin' | 'passthrough',
  reasons: OriginReason[],
) {
  return {
    items: items.slice(0, req.k ?? items.length),
    path,
    model,
    ...(reasons.length ? { degraded: [...new Set(reasons)] } : {}),
  }
}

/** Throws what the teacher's batcher throws (QueueFull, DeadlineExceeded) and BackendError. */
export async function rerankAtOrigin(
  req: RerankRequest,
  deadlineAt: number,
  o: OriginRerankOptions,
): Promise<OriginAnswer> {
  const reasons: OriginReason[] = []
  const source = historySource(req, o.historyLimit)
  if (source && 'userId' in source) reasons.push('history_unavailable')
  const given = source && 'given' in source ? source.given : []
  const history = given.flatMap((id) => o.catalog.row(id) ?? [])

  const stored = o.catalog.queryVector(req.query)
  const query = stored ?? o.encoder?.encode(req.query) ?? null
  const known: { id: string; row: number }[] = []
  const missing: string[] = []
  for (const { id } of req.candidates) {
    const row = o.catalog.row(id)
    if (row === undefined) missing.push(id)
    else known.push({ id, row })
  }
  const notes: Record<string, unknown> = {
    query_vector: stored ? 'catalog' : query ? 'encoded' : 'none',
    candidates_known: known.length,
    history_known: history.length,
  }
  if (given.length > history.length) notes.history_without_features = given.length - history.length
  if (missing.length) reasons.push('candidates_without_embedding')

  if (!query || !known.length) {
    if (!query) reasons.unshift('query_without_embedding')
    return { body: respond(retrievalOrder(req.candidates), req, o.model, 'passthrough', reasons), notes }
  }
  const { result: scores, batch } = await o.teacher.score(
    { query, items: known.map((k) => k.row), history },
    deadlineAt,
  )
  const ranked = rankByScore(known.map((k, i) => ({ id: k.id, score: scores[i] })))
  const items = [...ranked, ...missing.map((id) => ({ id, score: null }))]
  return { body: respond(items, req, o.model, 'origin', reasons), notes, batch }
}
