import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { ModelSpec } from '../../functions/release/manifest.ts'
import { readNpy } from '../../functions/release/npy.ts'

/**
 * Replays a model's saved parity case (inputs and PyTorch's outputs, written at export) through
 * onnxruntime-node; returns the largest absolute difference over every output.
 */
export async function parityMaxDiff(root: string, spec: ModelSpec): Promise<number> {
  if (!spec.parity) throw new Error(`${spec.file}: no parity case`)
  const dir = join(root, spec.parity)
  const session = await ort.InferenceSession.create(join(root, spec.file))
  const feeds: Record<string, ort.Tensor> = {}
  for (const input of spec.inputs) {
    const a = readNpy(join(dir, `input.${input.name}.npy`))
    feeds[input.name] = new ort.Tensor(a.dtype, a.data, a.shape)
  }
  const result = await session.run(feeds)
  let worst = 0
  for (const file of readdirSync(dir).filter((f) => f.startsWith('output.'))) {
    const name = file.slice('output.'.length, -'.npy'.length)
    const expected = readNpy(join(dir, file))
    const got = result[name]
    if (!got) throw new Error(`${spec.file}: no output "${name}"`)
    if (got.dims.join() !== expected.shape.join())
      throw new Error(`${spec.file}: output ${name} is [${got.dims}], PyTorch gave [${expected.shape}]`)
    const g = got.data as Float32Array
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - (expected.data[i] as number)))
  }
  await session.release()
  return worst
}
