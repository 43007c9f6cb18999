/**
 * The KServe v2 / Open Inference Protocol's data plane over the teacher: health, model metadata
 * and readiness (from the manifest), and inference, with typed requests in and typed answers out.
 * The routes (functions/origin/routes/v2.ts) only read HTTP into these and write the answers back,
 * as kserve's `protocol/rest/v2_endpoints.py` does over `protocol/dataplane.py`.
 *
 * Each refusal is a typed error the routes map to a status: `ModelNotFound` (404),
 * `ModelNotReady` (503), `V2Error` (400, naming the tensor), `BackendError` (503).
 */
import type { ModelSpec, TensorSpec } from '../../release/manifest.ts'
import type { Tensors } from '../backend.ts'
import type { Teacher } from '../teacher.ts'
import { V2Error, type InferRequest, type V2Tensor } from './protocol.ts'

/** The one version of the model this origin serves. */
export const MODEL_VERSION = '1'

export class ModelNotFound extends Error {
  override name = 'ModelNotFound'
}

export class ModelNotReady extends Error {
  override name = 'ModelNotReady'
}

export interface TensorMetadata {
  name: string
  datatype: string
  /** -1 for a variable dim. */
  shape: number[]
}

export interface ModelMetadata {
  name: string
  versions: string[]
  platform: string
  inputs: TensorMetadata[]
  outputs: TensorMetadata[]
}

/** An inference request checked against the model: its feeds, and the outputs to answer with. */
export interface CheckedInfer {
  id?: string
  feeds: Tensors
  outputs: string[]
  batch: number
  binaryOutput: boolean
}

export interface InferAnswer {
  model: { name: string; version: string }
  id?: string
  outputs: V2Tensor[]
  binaryOutput: boolean
}

export interface V2DataPlaneOptions {
  /** Whether the origin serves inference now (the model loaded and not shutting down). */
  ready: () => boolean
  /** Largest batch an infer request may carry. */
  maxInferBatch?: number
}

const v2Type = (dtype: string) => (dtype === 'float32' ? 'FP32' : dtype.toUpperCase())
const v2Shape = (shape: TensorSpec['shape']) => shape.map((d) => (typeof d === 'number' ? d : -1))
const tensorMetadata = (list: TensorSpec[]) =>
  list.map((t) => ({ name: t.name, datatype: v2Type(t.dtype), shape: v2Shape(t.shape) }))

/** The request's tensors as the model's feeds; every input present, named, and shaped as the manifest says. */
export function checkInputs(spec: ModelSpec, tensors: V2Tensor[], maxBatch: number): Tensors {
  const expected = spec.inputs.map((i) => i.name).join(', ')
  const sizes = new Map<string, number>()
  const feeds: Tensors = {}
  tensors.forEach((t, i) => {
    const field = `inputs.${i}`
    const input = spec.inputs.find((s) => s.name === t.name)
    if (!input) throw new V2Error(field, `tensor ${t.name}: the model has no such input (it reads ${expected})`)
    if (t.shape.length !== input.shape.length)
      throw new V2Error(
        field,
        `tensor ${t.name}: shape [${t.shape}], expected rank ${input.shape.length} ([${input.shape}])`,
      )
    input.shape.forEach((d, k) => {
      const got = t.shape[k]
      if (typeof d === 'number' ? got !== d : (sizes.get(d) ?? got) !== got)
        throw new V2Error(
          field,
          `tensor ${t.name}: dim ${k} is ${got}, expected ${typeof d === 'number' ? d : `${d} = ${sizes.get(d)}`}`,
        )
      if (typeof d === 'string') sizes.set(d, got)
    })
    feeds[t.name] = { dims: t.shape, data: t.data }
  })
  for (const s of spec.inputs)
    if (!feeds[s.name]) throw new V2Error('inputs', `tensor ${s.name} is missing (the model reads ${expected})`)
  const batch = sizes.get('batch') ?? 0
  if (batch < 1 || batch > maxBatch) throw new V2Error('inputs', `batch of ${batch}: expected 1 to ${maxBatch}`)
  return feeds
}

/**
 * What `/v2` serves, over the teacher.
 *
 * @example
 * const plane = new V2DataPlane(teacher, { ready: () => teacher.loaded })
 * const checked = plane.check('armmt', decodeInferRequest(bytes))
 * const answer = await plane.infer(checked)
 */
export class V2DataPlane {
  readonly maxInferBatch: number
  readonly #ready: () => boolean

  constructor(
    private readonly teacher: Pick<Teacher, 'name' | 'spec' | 'infer'>,
    { ready, maxInferBatch = 256 }: V2DataPlaneOptions,
  ) {
    this.#ready = ready
    this.maxInferBatch = maxInferBatch
  }

  get live(): boolean {
    return true
  }

  get ready(): boolean {
    return this.#ready()
  }

  /** Whether model `name` can infer now; throws ModelNotFound for a model this origin does not serve. */
  modelReady(name: string): boolean {
    if (name !== this.teacher.name)
      throw new ModelNotFound(`no model "${name}" (this origin serves "${this.teacher.name}")`)
    return this.ready
  }

  metadata(name: string): ModelMetadata {
    this.modelReady(name)
    return {
      name: this.teacher.name,
      versions: [MODEL_VERSION],
      platform: 'onnxruntime_onnx',
      inputs: tensorMetadata(this.teacher.spec.inputs),
      outputs: tensorMetadata(this.teacher.spec.outputs),
    }
  }

  /** Throws ModelNotFound or ModelNotReady unless model `name` can infer now. */
  assertServing(name: string): void {
    if (!this.modelReady(name)) throw new ModelNotReady('the model is not loaded yet')
  }

  /** The request checked against the model's inputs and outputs; throws V2Error naming what is wrong. */
  check(name: string, request: InferRequest): CheckedInfer {
    this.assertServing(name)
    const { spec } = this.teacher
    const feeds = checkInputs(spec, request.inputs, this.maxInferBatch)
    for (const [i, output] of (request.outputs ?? []).entries())
      if (!spec.outputs.some((o) => o.name === output))
        throw new V2Error(`outputs.${i}`, `tensor ${output}: the model has no such output`)
    return {
      id: request.id,
      feeds,
      outputs: request.outputs ?? spec.outputs.map((o) => o.name),
      batch: feeds[spec.inputs[0].name].dims[0],
      binaryOutput: request.binaryOutput,
    }
  }

  /** The checked request through the model, unbatched (its caller brought its own batch). */
  async infer(checked: CheckedInfer): Promise<InferAnswer> {
    const outputs = await this.teacher.infer(checked.feeds)
    return {
      model: { name: this.teacher.name, version: MODEL_VERSION },
      id: checked.id,
      outputs: checked.outputs.map((name) => ({ name, shape: outputs[name].dims, data: outputs[name].data })),
      binaryOutput: checked.binaryOutput,
    }
  }
}
