import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KernelHead } from '../../../functions/edge/head/kernel-head.ts'
import { loadKernelModule } from '../../../scripts/kernel/build.ts'
import { headCase } from '../../workerd/head-cases.ts'

// Node hosts (training's smoke check, the benches) hand the kernel a Buffer from readFileSync,
// which Node may carve out of a shared pool: the weights must be read from the view, not its pool.
describe('the kernel head on a Node host', () => {
  const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8'))
  const spec = manifest.models.edge_head
  const weights = readFileSync(join('models', spec.weights.file))
  const features = headCase(0, manifest.embedding.dim)

  it('reads weights from a Buffer that is a view into a larger pool', () => {
    const pool = Buffer.alloc(weights.byteLength + 12, 0x7f)
    const pooled = pool.subarray(4, 4 + weights.byteLength)
    pooled.set(weights)
    const fresh = new KernelHead({ spec, wasm: loadKernelModule(), weights: new Uint8Array(weights).buffer })
    const fromPool = new KernelHead({ spec, wasm: loadKernelModule(), weights: pooled })
    expect([...fromPool.scoreNow(features)]).toEqual([...fresh.scoreNow(features)])
  })
})
