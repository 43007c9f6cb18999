/**
 * The teacher as the origin runs it: the manifest's model on its backend, behind the batcher.
 * `/v1` scores one request's job through the batcher; `/v2` hands raw tensors straight to the
 * backend (a caller of the raw model brings its own batch). The backend arrives after start
 * (`attach`): until then the teacher is not loaded and both refuse.
 */
import { modelSpec, type Manifest, type ModelSpec } from '../release/manifest.ts'
import type { InputSources } from '../shared/model-inputs.ts'
import { BackendError, type InferenceBackend, type Tensors } from './backend.ts'
import { DynamicBatcher, type BatchInfo, type BatcherOptions } from './batcher.ts'
import type { OriginCatalog } from './catalog.ts'
import { assembleTeacherInputs, teacherSources, type TeacherJob } from './teacher-inputs.ts'

/** The model on its backend, as the batcher calls it: a batch of jobs → one score array per job. */
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

export interface TeacherOptions {
  /** The manifest's model to serve (default `armmt`). */
  model?: string
  batching?: BatcherOptions
}

/**
 * The model and its batcher, loaded once a backend is attached.
 *
 * @example
 * const teacher = new Teacher(manifest, catalog, { batching: { maxBatch: 32 } })
 * teacher.attach(await OnnxBackend.create('models/onnx/armmt.onnx'))
 * const { result: scores } = await teacher.score(job, Date.now() + 300)
 */
export class Teacher {
  readonly name: string
  readonly spec: ModelSpec
  readonly batcher: DynamicBatcher<TeacherJob, Float32Array>
  #model: TeacherModel | undefined

  constructor(
    manifest: Manifest,
    private readonly catalog: OriginCatalog,
    { model = 'armmt', batching }: TeacherOptions = {},
  ) {
    this.name = model
    this.spec = modelSpec(manifest, model)
    this.batcher = new DynamicBatcher((jobs) => this.#loaded().score(jobs), batching)
  }

  /** Puts the loaded backend behind the model: from now on the teacher is loaded. */
  attach(backend: InferenceBackend): void {
    this.#model = new TeacherModel(this.spec, this.catalog, backend)
  }

  get loaded(): boolean {
    return this.#model !== undefined
  }

  get backend(): InferenceBackend | undefined {
    return this.#model?.backend
  }

  /** One request's scores, through the batcher; rejects with QueueFull, DeadlineExceeded or BackendError. */
  score(job: TeacherJob, deadlineAt: number): Promise<{ result: Float32Array; batch: BatchInfo }> {
    return this.batcher.submit(job, deadlineAt)
  }

  /** Named tensors straight through the backend, unbatched; rejects with BackendError. */
  infer(feeds: Tensors): Promise<Tensors> {
    return this.#loaded().backend.infer(feeds)
  }

  /** Lets queued and running batches finish, then closes the backend (graceful shutdown). */
  async close(): Promise<void> {
    await this.batcher.drained()
    await this.#model?.backend.close()
  }

  #loaded(): TeacherModel {
    if (!this.#model) throw new BackendError('the teacher is not loaded yet')
    return this.#model
  }
}
