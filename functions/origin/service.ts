/**
 * The origin's parts, built once at start: the teacher (model + batcher), and what each route
 * needs of it — `/v1`'s re-rank options, `/v2`'s data plane, `/healthz`'s report — over one
 * lifecycle: ready once the model is loaded, draining while the origin shuts down.
 */
import type { Manifest } from '../release/manifest.ts'
import type { QueryEncoder } from '../text-encoder/query-encoder.ts'
import type { BatcherOptions } from './batcher.ts'
import type { OriginCatalog } from './catalog.ts'
import { V2DataPlane } from './kserve/dataplane.ts'
import type { OriginRerankOptions } from './rerank.ts'
import { Teacher } from './teacher.ts'

/**
 * What the origin serves: the release's manifest, the catalog its teacher reads, and the query
 * encoder for queries the catalog holds no vector for. Whoever launches the origin brings them
 * (the command line brings the synthetic world's: scripts/world/release-world.ts).
 */
export interface OriginRelease {
  manifest: Manifest
  catalog: OriginCatalog
  encoder?: QueryEncoder
}

export interface OriginServiceOptions extends OriginRelease {
  /** The manifest's model to serve (default `armmt`, the teacher). */
  model?: string
  batching?: BatcherOptions
  /** History items the teacher reads (newest first). */
  historyLimit?: number
  /** Longest wait for an answer when the caller sends no deadline, ms. */
  requestTimeoutMs?: number
  /** Largest batch /v2 infer accepts. */
  maxInferBatch?: number
}

/**
 * @example
 * const service = new OriginService({ manifest, catalog, encoder, batching: { maxBatch: 32 } })
 * service.teacher.attach(await OnnxBackend.create('models/onnx/armmt.onnx'))
 * const app = createOriginApp(service)
 */
export class OriginService {
  readonly release: OriginRelease
  readonly teacher: Teacher
  /** What `/v1/rerank` runs. */
  readonly rerank: OriginRerankOptions
  /** What `/v2` serves. */
  readonly v2: V2DataPlane
  readonly requestTimeoutMs: number
  /** Set while shutting down: routes refuse new work. */
  draining = false

  constructor({
    model = 'armmt',
    batching,
    historyLimit = 50,
    requestTimeoutMs = 10_000,
    maxInferBatch = 256,
    ...release
  }: OriginServiceOptions) {
    const { manifest, catalog, encoder } = release
    this.release = { manifest, catalog, encoder }
    this.teacher = new Teacher(manifest, catalog, { model, batching })
    this.requestTimeoutMs = requestTimeoutMs
    this.rerank = { catalog, encoder, teacher: this.teacher, model: manifest.version, historyLimit }
    this.v2 = new V2DataPlane(this.teacher, { ready: () => this.ready, maxInferBatch })
  }

  /** Loaded and not shutting down. */
  get ready(): boolean {
    return this.teacher.loaded && !this.draining
  }
}
