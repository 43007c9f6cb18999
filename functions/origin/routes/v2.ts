/**
 * KServe v2 / Open Inference Protocol for the raw teacher: health, model metadata and readiness
 * (from the manifest), and `infer` with JSON tensors or the binary tensor extension. Tensors go
 * straight to the backend (a caller of the raw model brings its own batch); a tensor with a wrong
 * name, dtype or shape is a 400 naming it.
 */
import { Hono, type Context } from 'hono'
import { problemResponse } from '../../http/problem.ts'
import { limitBody } from '../../http/rerank-input.ts'
import { note } from '../../http/request-log.ts'
import type { ModelSpec, TensorSpec } from '../../shared/manifest.ts'
import { BackendError, type Tensors } from '../backend.ts'
import type { OriginEnv } from '../env.ts'
import { decodeInferRequest, encodeInferResponse, HEADER_LENGTH, V2Error, type V2Tensor } from '../kserve/protocol.ts'
import type { OriginService } from '../service.ts'

/** 256 lists of 200 candidates with a 200-item history, as FP32, fit inside this. */
export const MAX_INFER_BYTES = 128 * 2 ** 20
export const MODEL_VERSION = '1'

const v2Type = (dtype: string) => (dtype === 'float32' ? 'FP32' : dtype.toUpperCase())
const v2Shape = (shape: TensorSpec['shape']) => shape.map((d) => (typeof d === 'number' ? d : -1))

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

function badTensor(c: Context, e: V2Error) {
  // `error` is the protocol's own error member; the rest is the problem+json every 4xx here carries.
  return problemResponse(c, {
    status: 400,
    title: 'Invalid inference request',
    field: e.field,
    detail: e.message,
    error: e.message,
  })
}

export function v2Routes(service: OriginService) {
  const known = (c: Context) => {
    if (c.req.param('name') !== service.name)
      return problemResponse(c, {
        status: 404,
        title: 'Not Found',
        detail: `no model "${c.req.param('name')}" (this origin serves "${service.name}")`,
        error: 'model not found',
      })
  }
  return new Hono<OriginEnv>()
    .get('/health/live', (c) => c.json({ live: true }))
    .get('/health/ready', (c) => c.json({ ready: service.ready }, service.ready ? 200 : 503))
    .get('/models/:name', (c) => {
      const missing = known(c)
      if (missing) return missing
      const tensors = (list: TensorSpec[]) =>
        list.map((t) => ({ name: t.name, datatype: v2Type(t.dtype), shape: v2Shape(t.shape) }))
      return c.json({
        name: service.name,
        versions: [MODEL_VERSION],
        platform: 'onnxruntime_onnx',
        inputs: tensors(service.spec.inputs),
        outputs: tensors(service.spec.outputs),
      })
    })
    .get(
      '/models/:name/ready',
      (c) => known(c) ?? c.json({ name: service.name, ready: service.ready }, service.ready ? 200 : 503),
    )
    .post('/models/:name/infer', limitBody(MAX_INFER_BYTES), async function infer(c) {
      const missing = known(c)
      if (missing) return missing
      if (!service.ready)
        return problemResponse(
          c,
          {
            status: 503,
            title: 'Service Unavailable',
            detail: 'the model is not loaded yet',
            error: 'model not ready',
          },
          { 'Retry-After': '1' },
        )
      const length = c.req.header(HEADER_LENGTH)
      if (length !== undefined && !/^\d+$/.test(length))
        return badTensor(c, new V2Error(HEADER_LENGTH, `${HEADER_LENGTH}: expected a byte count, got "${length}"`))
      let request, feeds
      try {
        request = decodeInferRequest(
          new Uint8Array(await c.req.arrayBuffer()),
          length === undefined ? undefined : Number(length),
        )
        feeds = checkInputs(service.spec, request.inputs, service.maxInferBatch)
        for (const [i, name] of (request.outputs ?? []).entries())
          if (!service.spec.outputs.some((o) => o.name === name))
            throw new V2Error(`outputs.${i}`, `tensor ${name}: the model has no such output`)
      } catch (e) {
        if (e instanceof V2Error) return badTensor(c, e)
        throw e
      }
      note(c, { model: service.name, batch: feeds[service.spec.inputs[0].name].dims[0], binary: length !== undefined })
      let outputs: Tensors
      try {
        outputs = await service.teacher.backend.infer(feeds)
      } catch (e) {
        if (!(e instanceof BackendError)) throw e
        note(c, { error: 'backend', backend_error: e.message })
        return problemResponse(c, { status: 503, title: 'Service Unavailable', detail: e.message, error: e.message })
      }
      const wanted = request.outputs ?? service.spec.outputs.map((o) => o.name)
      const { body, headerLength } = encodeInferResponse(
        { name: service.name, version: MODEL_VERSION },
        wanted.map((name) => ({ name, shape: outputs[name].dims, data: outputs[name].data })),
        { id: request.id, binary: request.binaryOutput },
      )
      const headers: Record<string, string> = {
        'Content-Type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
      }
      if (headerLength !== undefined) headers[HEADER_LENGTH] = String(headerLength)
      return c.body(body, 200, headers)
    })
}
