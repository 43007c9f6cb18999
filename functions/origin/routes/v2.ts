/**
 * KServe v2 / Open Inference Protocol over HTTP for the raw teacher: health, model metadata and
 * readiness, and `infer` with JSON tensors or the binary tensor extension. These routes read HTTP
 * into the data plane's typed requests (functions/origin/kserve/dataplane.ts) and write its answers
 * and refusals back; a tensor with a wrong name, dtype or shape is a 400 naming it.
 */
import { Hono, type Context } from 'hono'
import { problemResponse } from '../../http/problem.ts'
import { limitBody } from '../../http/rerank-input.ts'
import { note } from '../../http/request-log.ts'
import { BackendError } from '../backend.ts'
import type { OriginEnv } from '../env.ts'
import { ModelNotFound, ModelNotReady, type InferAnswer, type V2DataPlane } from '../kserve/dataplane.ts'
import {
  decodeInferRequest,
  encodeInferResponse,
  HEADER_LENGTH,
  V2Error,
  type InferRequest,
} from '../kserve/protocol.ts'

/** 256 lists of 200 candidates with a 200-item history, as FP32, fit inside this. */
export const MAX_INFER_BYTES = 128 * 2 ** 20

/**
 * A data-plane refusal as problem+json; anything else is rethrown. `error` is the protocol's own
 * error member; the rest is the problem+json every refusal here carries.
 */
function refusal(c: Context<OriginEnv>, e: unknown): Response {
  if (e instanceof ModelNotFound)
    return problemResponse(c, { status: 404, title: 'Not Found', detail: e.message, error: 'model not found' })
  if (e instanceof ModelNotReady)
    return problemResponse(
      c,
      { status: 503, title: 'Service Unavailable', detail: e.message, error: 'model not ready' },
      { 'Retry-After': '1' },
    )
  if (e instanceof V2Error)
    return problemResponse(c, {
      status: 400,
      title: 'Invalid inference request',
      field: e.field,
      detail: e.message,
      error: e.message,
    })
  if (e instanceof BackendError) {
    note(c, { error: 'backend', backend_error: e.message })
    return problemResponse(c, { status: 503, title: 'Service Unavailable', detail: e.message, error: e.message })
  }
  throw e
}

/** The body as an inference request: JSON, or a JSON header of `Inference-Header-Content-Length` bytes and binary tensors. */
async function readInferRequest(c: Context<OriginEnv>): Promise<InferRequest> {
  const length = c.req.header(HEADER_LENGTH)
  if (length !== undefined && !/^\d+$/.test(length))
    throw new V2Error(HEADER_LENGTH, `${HEADER_LENGTH}: expected a byte count, got "${length}"`)
  return decodeInferRequest(
    new Uint8Array(await c.req.arrayBuffer()),
    length === undefined ? undefined : Number(length),
  )
}

function inferResponse(c: Context<OriginEnv>, answer: InferAnswer): Response {
  const { body, headerLength } = encodeInferResponse(answer.model, answer.outputs, {
    id: answer.id,
    binary: answer.binaryOutput,
  })
  const headers: Record<string, string> = {
    'Content-Type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
  }
  if (headerLength !== undefined) headers[HEADER_LENGTH] = String(headerLength)
  return c.body(body, 200, headers)
}

export function v2Routes(plane: V2DataPlane) {
  return new Hono<OriginEnv>()
    .get('/health/live', (c) => c.json({ live: plane.live }))
    .get('/health/ready', (c) => c.json({ ready: plane.ready }, plane.ready ? 200 : 503))
    .get('/models/:name', (c) => {
      try {
        return c.json(plane.metadata(c.req.param('name')))
      } catch (e) {
        return refusal(c, e)
      }
    })
    .get('/models/:name/ready', (c) => {
      try {
        const ready = plane.modelReady(c.req.param('name'))
        return c.json({ name: c.req.param('name'), ready }, ready ? 200 : 503)
      } catch (e) {
        return refusal(c, e)
      }
    })
    .post('/models/:name/infer', limitBody(MAX_INFER_BYTES), async function infer(c) {
      const name = c.req.param('name')
      try {
        plane.assertServing(name) // before reading a body it could not use
        const checked = plane.check(name, await readInferRequest(c))
        note(c, { model: name, batch: checked.batch, binary: c.req.header(HEADER_LENGTH) !== undefined })
        return inferResponse(c, await plane.infer(checked))
      } catch (e) {
        return refusal(c, e)
      }
    })
}
