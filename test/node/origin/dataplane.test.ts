import { describe, expect, it } from 'vitest'
import { BackendError, type Tensors } from '../../../functions/origin/backend.ts'
import { ModelNotFound, ModelNotReady, V2DataPlane } from '../../../functions/origin/kserve/dataplane.ts'
import { V2Error, type InferRequest } from '../../../functions/origin/kserve/protocol.ts'
import type { ModelSpec } from '../../../functions/release/manifest.ts'

// The /v2 data plane alone, over a stand-in teacher: typed requests in, typed answers and refusals out.
const spec: ModelSpec = {
  file: 'toy.onnx',
  inputs: [
    { name: 'query', dtype: 'float32', shape: ['batch', 2] },
    { name: 'mask', dtype: 'float32', shape: ['batch', 'list'] },
  ],
  outputs: [
    { name: 'score', dtype: 'float32', shape: ['batch', 'list'] },
    { name: 'logit', dtype: 'float32', shape: ['batch', 'list'] },
  ],
}

/** A teacher whose model answers `score` = mask and `logit` = 2 × mask, recording each call. */
function plane({ ready = true, fail = false } = {}) {
  const calls: Tensors[] = []
  const teacher = {
    name: 'toy',
    spec,
    infer: async (feeds: Tensors): Promise<Tensors> => {
      calls.push(feeds)
      if (fail) throw new BackendError('the model fell over')
      const { dims, data } = feeds.mask
      return { score: { dims, data }, logit: { dims, data: data.map((v) => 2 * v) } }
    },
  }
  return { plane: new V2DataPlane(teacher, { ready: () => ready, maxInferBatch: 4 }), calls }
}

const request = (batch: number, extra: Partial<InferRequest> = {}): InferRequest => ({
  inputs: [
    { name: 'query', shape: [batch, 2], data: new Float32Array(batch * 2) },
    { name: 'mask', shape: [batch, 3], data: new Float32Array(batch * 3).fill(1) },
  ],
  binaryOutput: false,
  ...extra,
})

describe('V2DataPlane', () => {
  it('describes the model from its spec, variable dims as -1', () => {
    expect(plane().plane.metadata('toy').inputs).toEqual([
      { name: 'query', datatype: 'FP32', shape: [-1, 2] },
      { name: 'mask', datatype: 'FP32', shape: [-1, -1] },
    ])
  })

  it('refuses a model it does not serve with ModelNotFound', () => {
    expect(() => plane().plane.modelReady('gpt')).toThrow(ModelNotFound)
  })

  it('refuses inference before the model is ready with ModelNotReady', () => {
    expect(() => plane({ ready: false }).plane.check('toy', request(1))).toThrow(ModelNotReady)
  })

  it('refuses a batch over maxInferBatch, naming the limit', () => {
    expect(() => plane().plane.check('toy', request(5))).toThrow(/batch of 5: expected 1 to 4/)
  })

  it('refuses an output the model lacks, naming its place in the request', () => {
    const check = () => plane().plane.check('toy', request(1, { outputs: ['colour'] }))
    expect(check).toThrow(V2Error)
    expect(check).toThrow(/tensor colour/)
  })

  it('hands the checked feeds to the teacher as one call, unbatched', async () => {
    const { plane: p, calls } = plane()
    await p.infer(p.check('toy', request(2)))
    expect(calls.map((c) => c.mask.dims)).toEqual([[2, 3]])
  })

  it('answers with every output by default, or only those asked for', async () => {
    const { plane: p } = plane()
    const all = await p.infer(p.check('toy', request(1)))
    const one = await p.infer(p.check('toy', request(1, { outputs: ['logit'] })))
    expect(all.outputs.map((o) => o.name)).toEqual(['score', 'logit'])
    expect(one.outputs.map((o) => [o.name, [...o.data]])).toEqual([['logit', [2, 2, 2]]])
  })

  it("passes the backend's failure on as BackendError", async () => {
    const { plane: p } = plane({ fail: true })
    await expect(p.infer(p.check('toy', request(1)))).rejects.toThrow(BackendError)
  })
})
