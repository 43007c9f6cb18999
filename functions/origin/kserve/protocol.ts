/**
 * The KServe v2 / Open Inference Protocol's inference messages, both ways (the origin serves them
 * at `/v2/models/<name>/infer`; its `kserve` backend sends them to Triton or another origin): JSON
 * tensors, and the binary tensor extension Triton's clients use by default — a JSON header of
 * `Inference-Header-Content-Length` bytes, then each binary tensor's raw little-endian bytes in
 * order, each announced by `parameters.binary_data_size`.
 *
 * Only FP32 tensors are carried: every model in the manifest reads and writes float32.
 */
import { z } from 'zod'
import { firstIssue } from '../../shared/rerank-api.ts'

export const HEADER_LENGTH = 'Inference-Header-Content-Length'

export interface V2Tensor {
  name: string
  shape: number[]
  data: Float32Array
}

/** A message that breaks the protocol, naming the JSON path (e.g. `inputs.2`) at fault. */
export class V2Error extends Error {
  override name = 'V2Error'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

const Parameters = z.record(z.string(), z.unknown())
const BinarySize = z.number().int().nonnegative()

const TensorHeader = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  datatype: z.string(),
  parameters: Parameters.optional(),
  data: z.array(z.unknown()).optional(),
})

const InferRequestHeader = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(TensorHeader).min(1, 'at least one input tensor'),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: Parameters.optional() })).optional(),
})

const InferResponseHeader = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  outputs: z.array(TensorHeader),
})

export interface InferRequest {
  id?: string
  inputs: V2Tensor[]
  /** Output names asked for (all when undefined). */
  outputs?: string[]
  /** Whether the answer should carry its tensors as binary. */
  binaryOutput: boolean
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

function parseHeader<T>(schema: z.ZodType<T>, bytes: Uint8Array, headerLength: number | undefined): T {
  const length = headerLength ?? bytes.length
  if (!Number.isInteger(length) || length < 0 || length > bytes.length)
    throw new V2Error('(body)', `${HEADER_LENGTH} ${headerLength} does not fit a body of ${bytes.length} bytes`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, length)))
  } catch {
    throw new V2Error('(body)', 'the inference header is not JSON')
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const { field, detail } = firstIssue(parsed.error)
    throw new V2Error(field, detail)
  }
  return parsed.data
}

/** The tensors a header announces, their data from JSON or from the binary sections that follow it. */
function readTensors(headers: z.output<typeof TensorHeader>[], bytes: Uint8Array, offset: number, what: string) {
  const tensors = headers.map((t, i): V2Tensor => {
    const field = `${what}.${i}`
    if (t.datatype !== 'FP32') throw new V2Error(field, `tensor ${t.name}: datatype ${t.datatype}, expected FP32`)
    const size = t.parameters?.binary_data_size
    const n = count(t.shape)
    if (size !== undefined) {
      if (!BinarySize.safeParse(size).success) throw new V2Error(field, `tensor ${t.name}: bad binary_data_size`)
      if (t.data !== undefined) throw new V2Error(field, `tensor ${t.name}: both data and binary_data_size`)
      if (size !== 4 * n) throw new V2Error(field, `tensor ${t.name}: ${size} bytes for shape [${t.shape}] of FP32`)
      if (offset + size > bytes.length) throw new V2Error(field, `tensor ${t.name}: the body ends before its data`)
      // A fresh copy: the section need not be 4-byte aligned in the body, and a Node Buffer's
      // .slice() would share its pool rather than copy.
      const data = new Float32Array(new Uint8Array(bytes.subarray(offset, offset + size)).buffer)
      offset += size
      return { name: t.name, shape: t.shape, data }
    }
    if (t.data === undefined) throw new V2Error(field, `tensor ${t.name}: no data`)
    const flat = t.data.flat(Infinity as 1)
    if (flat.length !== n) throw new V2Error(field, `tensor ${t.name}: ${flat.length} values for shape [${t.shape}]`)
    if (!flat.every((v) => typeof v === 'number'))
      throw new V2Error(field, `tensor ${t.name}: FP32 data must be numbers`)
    return { name: t.name, shape: t.shape, data: Float32Array.from(flat as number[]) }
  })
  if (offset !== bytes.length) throw new V2Error('(body)', `${bytes.length - offset} bytes after the last tensor`)
  return tensors
}

export function decodeInferRequest(bytes: Uint8Array, headerLength?: number): InferRequest {
  const header = parseHeader(InferRequestHeader, bytes, headerLength)
  const names = new Set<string>()
  header.inputs.forEach((t, i) => {
    if (names.has(t.name)) throw new V2Error(`inputs.${i}`, `tensor ${t.name} given twice`)
    names.add(t.name)
  })
  const binaryOutput =
    header.parameters?.binary_data_output === true ||
    (header.outputs ?? []).some((o) => o.parameters?.binary_data === true)
  return {
    id: header.id,
    inputs: readTensors(header.inputs, bytes, headerLength ?? bytes.length, 'inputs'),
    outputs: header.outputs?.map((o) => o.name),
    binaryOutput,
  }
}

/** A JSON header followed by the tensors' bytes (binary), or JSON alone. */
function encodeMessage(
  header: Record<string, unknown>,
  tensors: V2Tensor[],
  key: string,
  binary: boolean,
): { body: Uint8Array<ArrayBuffer>; headerLength: number | undefined } {
  const described = tensors.map((t) =>
    binary
      ? { name: t.name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: t.data.byteLength } }
      : { name: t.name, datatype: 'FP32', shape: t.shape, data: Array.from(t.data) },
  )
  const json = new TextEncoder().encode(JSON.stringify({ ...header, [key]: described })) as Uint8Array<ArrayBuffer>
  if (!binary) return { body: json, headerLength: undefined }
  const body = new Uint8Array(json.length + tensors.reduce((a, t) => a + t.data.byteLength, 0))
  body.set(json)
  let offset = json.length
  for (const t of tensors) {
    body.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset)
    offset += t.data.byteLength
  }
  return { body, headerLength: json.length }
}

export function encodeInferRequest(
  inputs: V2Tensor[],
  opts: { id?: string; outputs?: string[]; binary?: boolean } = {},
) {
  const binary = opts.binary ?? true
  const header: Record<string, unknown> = { ...(opts.id ? { id: opts.id } : {}) }
  if (opts.outputs) header.outputs = opts.outputs.map((name) => ({ name, parameters: { binary_data: binary } }))
  else if (binary) header.parameters = { binary_data_output: true }
  return encodeMessage(header, inputs, 'inputs', binary)
}

export function encodeInferResponse(
  model: { name: string; version: string },
  outputs: V2Tensor[],
  opts: { id?: string; binary: boolean },
) {
  const header = { model_name: model.name, model_version: model.version, ...(opts.id ? { id: opts.id } : {}) }
  return encodeMessage(header, outputs, 'outputs', opts.binary)
}

export function decodeInferResponse(bytes: Uint8Array, headerLength?: number): V2Tensor[] {
  const header = parseHeader(InferResponseHeader, bytes, headerLength)
  return readTensors(header.outputs, bytes, headerLength ?? bytes.length, 'outputs')
}
