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
import type { InputSources } from '../shared/model-inputs.ts'
import type { ModelSpec } from '../shared/manifest.ts'
import { rankByScore, retrievalOrder } from '../shared/ranking.ts'
import { historySource, type RerankRequest, type RerankResponse } from '../shared/rerank-api.ts'
import type { QueryEncoder } from '../text-encoder/query-encoder.ts'
import { BackendError, type InferenceBackend } from './backend.ts'
import type { BatchInfo, DynamicBatcher } from './batcher.ts'
import type { OriginCatalog } from './catalog.ts'
import { assembleTeacherInputs, teacherSources, type TeacherJob } from './teacher-inputs.ts'

export type OriginReason = 'history_unavailable' | 'query_without_embedding' | 'candidates_without_embedding'

/** The teacher as the batcher calls it: a batch of jobs → one score array per job. */
export class TeacherModel {
  readonly #sources: InputSources<number>
  readonly #output: string

  constructor(
    readonly spec: ModelSpec,
    catalog: OriginCatalog,
    readonly backend: InferenceBackend,
  ) {
    this.#sources = teacherSources(catalog)
    const output = spec.outputs[0]?.name
    if (!output) throw new BackendError('the manifest lists no output for the teacher')
    this.#output = output
  }

  async score(jobs: TeacherJob[]): Promise<Float32Array[]> {
    const inputs = assembleTeacherInputs(this.spec, this.#sources, jobs)
    const out = (await this.backend.infer(inputs))[this.#output]
    const [batch, list] = out?.dims ?? []
    if (!out || batch !== jobs.length || out.data.length !== batch * list)
      throw new BackendError(`output ${this.#output} has dims [${out?.dims ?? []}] for a batch of ${jobs.length}`)
    return jobs.map((j, b) => out.data.slice(b * list, b * list + j.items.length))
  }
}

export interface OriginRerankOptions {
  catalog: OriginCatalog
  /** For queries the catalog holds no vector for; without one, such queries pass through. */
  encoder?: QueryEncoder
  batcher: DynamicBatcher<TeacherJob, Float32Array>
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

/** Throws what the batcher throws (QueueFull, DeadlineExceeded) and BackendError. */
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
  const { result: scores, batch } = await o.batcher.submit(
    { query, items: known.map((k) => k.row), history },
    deadlineAt,
  )
  const ranked = rankByScore(known.map((k, i) => ({ id: k.id, score: scores[i] })))
  const items = [...ranked, ...missing.map((id) => ({ id, score: null }))]
  return { body: respond(items, req, o.model, 'origin', reasons), notes, batch }
}
