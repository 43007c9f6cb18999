/**
 * The origin's parts, built once at start and shared by its routes: the catalog, the teacher on
 * its backend, the batcher in front of it, and whether it is ready (model loaded) or draining
 * (shutting down).
 */
import type { Manifest, ModelSpec } from '../shared/manifest.ts'
import { modelSpec } from '../shared/manifest.ts'
import type { QueryEncoder } from '../text-encoder/query-encoder.ts'
import type { InferenceBackend } from './backend.ts'
import { DynamicBatcher, type BatcherOptions } from './batcher.ts'
import type { OriginCatalog } from './catalog.ts'
import { TeacherModel, type OriginRerankOptions } from './rerank.ts'
import type { TeacherJob } from './teacher-inputs.ts'

export interface OriginServiceOptions {
  manifest: Manifest
  catalog: OriginCatalog
  encoder?: QueryEncoder
  /** The manifest's model to serve (default `armmt`, the teacher). */
  model?: string
  batching?: BatcherOptions
  historyLimit?: number
  /** Longest wait for an answer when the caller sends no deadline, ms. */
  requestTimeoutMs?: number
  /** Largest batch /v2 infer accepts. */
  maxInferBatch?: number
}

export class OriginService {
  readonly name: string
  readonly spec: ModelSpec
  readonly batcher: DynamicBatcher<TeacherJob, Float32Array>
  readonly rerank: OriginRerankOptions
  readonly requestTimeoutMs: number
  readonly maxInferBatch: number
  #teacher: TeacherModel | undefined
  draining = false

  constructor(readonly opts: OriginServiceOptions) {
    this.name = opts.model ?? 'armmt'
    this.spec = modelSpec(opts.manifest, this.name)
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000
    this.maxInferBatch = opts.maxInferBatch ?? 256
    this.batcher = new DynamicBatcher((jobs) => this.teacher.score(jobs), opts.batching)
    this.rerank = {
      catalog: opts.catalog,
      encoder: opts.encoder,
      batcher: this.batcher,
      model: opts.manifest.version,
      historyLimit: opts.historyLimit ?? 50,
    }
  }

  /** Puts the loaded backend behind the teacher: from now on the origin is ready. */
  attach(backend: InferenceBackend): void {
    this.#teacher = new TeacherModel(this.spec, this.opts.catalog, backend)
  }

  get ready(): boolean {
    return this.#teacher !== undefined && !this.draining
  }

  get teacher(): TeacherModel {
    if (!this.#teacher) throw new Error('the teacher is not loaded yet')
    return this.#teacher
  }

  get backend(): InferenceBackend | undefined {
    return this.#teacher?.backend
  }
}
