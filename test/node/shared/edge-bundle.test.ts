import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Manifest } from '../../../functions/release/manifest.ts'
import { rankByScore } from '../../../functions/shared/ranking.ts'
import { buildBundle } from '../../../scripts/worker-bundle.ts'
import { compileKernel, KERNEL_WASM } from '../../../scripts/kernel/build.ts'
import { tempDir } from '../world/fixture.ts'

const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as Manifest

describe('the edge bundle', () => {
  it('the ort build imports the head model file the manifest names', () => {
    const source = readFileSync('functions/edge/head/ort-bundle.ts', 'utf8')
    const imported = /import headModel from '([^']+\.onnx)'/.exec(source)?.[1]
    expect(imported).toBe(`../../../models/${manifest.models.edge_head.file}`)
  })

  it('the kernel imports the weights blob the manifest names', () => {
    const source = readFileSync('functions/edge/head/kernel-bundle.ts', 'utf8')
    const imported = /import weights from '([^']+\.bin)'/.exec(source)?.[1]
    expect(imported).toBe(`../../../models/${manifest.models.edge_head.weights!.file}`)
  })

  it('the default build carries the kernel and its weights, and no onnxruntime-web', () => {
    const bundle = buildBundle(join(tempDir('bundle'), 'default'))
    const modules = bundle.files.map((f) => f.name.replace(/^[0-9a-f]{40}-/, ''))
    expect(modules.sort()).toEqual(['edge_head.weights.bin', 'forward.wasm', 'index.js'])
    expect(readFileSync(join(bundle.dir, 'index.js'), 'utf8')).not.toMatch(/onnxruntime/)
  })

  it('the committed kernel is what its source compiles to (npm run build:kernel)', async () => {
    expect(Buffer.from(await compileKernel()).equals(readFileSync(KERNEL_WASM))).toBe(true)
  })
})

describe('rankByScore', () => {
  it('orders by score, then id, whatever the input order', () => {
    const items = [
      { id: 'b', score: 1 },
      { id: 'c', score: 2 },
      { id: 'a', score: 1 },
    ]
    expect(rankByScore(items).map((i) => i.id)).toEqual(['c', 'a', 'b'])
    expect(rankByScore([...items].reverse()).map((i) => i.id)).toEqual(['c', 'a', 'b'])
  })
})

describe('headFlops (bench:edge)', () => {
  it("counts the head's FLOPs as the training chain does, within 1 %", async () => {
    const { headFlops } = await import('../../../scripts/bench/head-flops.ts')
    const metrics = JSON.parse(readFileSync('models/metrics.json', 'utf8'))
    const arch = manifest.models.edge_head.weights!.architecture as unknown as Parameters<typeof headFlops>[0]
    const { candidates, history } = metrics.flops.reference
    expect(Math.abs(headFlops(arch, candidates, history) / metrics.flops.head - 1)).toBeLessThan(0.01)
  })
})
