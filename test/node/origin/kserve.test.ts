import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeInferRequest,
  decodeInferResponse,
  HEADER_LENGTH,
  type V2Tensor,
} from '../../../functions/origin/kserve/protocol.ts'
import type { RunningOrigin } from '../../../functions/origin/server.ts'
import { spawnOrigin, type OriginProcess } from '../../../scripts/origin/process.ts'
import { readNpy } from '../../../functions/release/npy.ts'
import history from '../../fixtures/requests/history.json'
import unknownQuery from '../../fixtures/requests/unknown-query.json'
import { post, startTestOrigin, TOKEN } from './harness.ts'

// KServe v2 / Open Inference Protocol on a real origin, and the `kserve` backend against a second
// origin process serving /v2 (as production points it at Triton).
let origin: RunningOrigin
beforeAll(async () => void (origin = await startTestOrigin()))

const PARITY = 'models/parity/armmt'
/** The teacher's saved parity case: PyTorch's inputs and its scores. */
const parity = () => {
  const inputs: V2Tensor[] = readdirSync(PARITY)
    .filter((f) => f.startsWith('input.'))
    .map((f) => {
      const a = readNpy(join(PARITY, f))
      return { name: f.slice('input.'.length, -'.npy'.length), shape: a.shape, data: a.data as Float32Array }
    })
  return { inputs, score: readNpy(join(PARITY, 'output.score.npy')).data as Float32Array }
}
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)

async function infer(body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${origin.url}/v2/models/armmt/infer`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
    body,
  })
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) }
}
const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes))

describe('KServe v2 endpoints', () => {
  it('GET /v2/models/armmt gives the manifest’s inputs and outputs, variable dims as -1', async () => {
    const meta: any = await (await fetch(`${origin.url}/v2/models/armmt`)).json()
    expect(meta).toMatchObject({ name: 'armmt', versions: ['1'], platform: 'onnxruntime_onnx' })
    expect(meta.inputs.find((i: { name: string }) => i.name === 'text')).toEqual({
      name: 'text',
      datatype: 'FP32',
      shape: [-1, -1, 128],
    })
    expect(meta.outputs).toEqual([{ name: 'score', datatype: 'FP32', shape: [-1, -1] }])
  })

  it('a model it does not serve → 404', async () => {
    expect((await fetch(`${origin.url}/v2/models/gpt/ready`)).status).toBe(404)
  })

  it('infer with JSON tensors gives PyTorch’s scores (≤ 1e-4)', async () => {
    const { inputs, score } = parity()
    const { body } = encodeInferRequest(inputs, { binary: false, id: 'j1' })
    const { res, bytes } = await infer(body)
    expect(res.status).toBe(200)
    const answer = json(bytes)
    expect(answer).toMatchObject({ model_name: 'armmt', model_version: '1', id: 'j1' })
    expect(maxDiff(Float32Array.from(answer.outputs[0].data), score)).toBeLessThanOrEqual(1e-4)
  })

  it('infer with the binary tensor extension, both ways, gives PyTorch’s scores (≤ 1e-4)', async () => {
    const { inputs, score } = parity()
    const { body, headerLength } = encodeInferRequest(inputs, { binary: true })
    const { res, bytes } = await infer(body, {
      'Content-Type': 'application/octet-stream',
      [HEADER_LENGTH]: String(headerLength),
    })
    expect(res.status).toBe(200)
    const length = res.headers.get(HEADER_LENGTH)
    expect(Number(length)).toBeGreaterThan(0)
    const [out] = decodeInferResponse(bytes, Number(length))
    expect(out.shape).toEqual([2, 100])
    expect(maxDiff(out.data, score)).toBeLessThanOrEqual(1e-4)
  })

  it.each([
    [
      'a name the model lacks',
      (t: V2Tensor[]) => [...t, { name: 'colour', shape: [2, 1], data: new Float32Array(2) }],
      /tensor colour/,
    ],
    [
      'a wrong shape',
      (t: V2Tensor[]) => t.map((x) => (x.name === 'query' ? { ...x, shape: [2, 64], data: x.data.slice(0, 128) } : x)),
      /tensor query/,
    ],
    ['a missing input', (t: V2Tensor[]) => t.filter((x) => x.name !== 'mask'), /tensor mask is missing/],
    [
      'disagreeing list lengths',
      (t: V2Tensor[]) => t.map((x) => (x.name === 'price' ? { ...x, shape: [2, 50], data: x.data.slice(0, 100) } : x)),
      /tensor price/,
    ],
  ])('%s → 400 naming the tensor', async (_, change, message) => {
    const { body } = encodeInferRequest(change(parity().inputs), { binary: false })
    const { res, bytes } = await infer(body)
    expect(res.status).toBe(400)
    expect(res.headers.get('Content-Type')).toBe('application/problem+json')
    expect(json(bytes).detail).toMatch(message)
    expect(json(bytes).error).toMatch(message)
  })

  it('a wrong datatype → 400 naming the tensor', async () => {
    const { body } = encodeInferRequest(parity().inputs, { binary: false })
    const header = json(body)
    header.inputs[0].datatype = 'INT64'
    const { res, bytes } = await infer(JSON.stringify(header))
    expect(res.status).toBe(400)
    expect(json(bytes)).toMatchObject({ field: 'inputs.0', detail: expect.stringMatching(/datatype INT64/) })
  })

  it('binary data shorter than announced → 400', async () => {
    const { body, headerLength } = encodeInferRequest(parity().inputs, { binary: true })
    const { res } = await infer(body.slice(0, body.length - 4), { [HEADER_LENGTH]: String(headerLength) })
    expect(res.status).toBe(400)
  })
})

describe('the kserve backend', () => {
  let v2: OriginProcess | undefined
  let v2Url = ''
  beforeAll(async () => {
    // A second origin *process*, started as a user starts one, serves the raw teacher at /v2.
    v2 = await spawnOrigin({ PORT: '0', ORIGIN_TOKEN: 'v2-token' })
    v2Url = v2.url
  }, 120_000)
  afterAll(() => v2?.stop())

  it('gives the same scores as the onnx backend (≤ 1e-5), for stored and encoded queries', async () => {
    const viaKserve = await startTestOrigin({ INFER_BACKEND: 'kserve', INFER_URL: v2Url, INFER_TOKEN: 'v2-token' })
    expect(viaKserve.service.teacher.backend!.description).toMatch(/^kserve /)
    for (const request of [history, unknownQuery]) {
      const [a, b] = await Promise.all([post(origin.url, request), post(viaKserve.url, request)])
      expect(b.body.path).toBe('origin')
      expect(b.body.items.map((i: { id: string }) => i.id)).toEqual(a.body.items.map((i: { id: string }) => i.id))
      a.body.items.forEach((item: { score: number }, i: number) =>
        expect(Math.abs(b.body.items[i].score - item.score)).toBeLessThanOrEqual(1e-5),
      )
    }
  })

  it('a v2 server that refuses the token: the origin cannot score, and answers 503', async () => {
    const wrong = await startTestOrigin({ INFER_BACKEND: 'kserve', INFER_URL: v2Url, INFER_TOKEN: 'not-it' })
    const { status, body } = await post(wrong.url, history)
    expect(status).toBe(503)
    expect(body.detail).toMatch(/401/)
  })
})
