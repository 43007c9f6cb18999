import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ModelSpec } from '../../../functions/release/manifest.ts'
import { parityMaxDiff } from '../../../scripts/train/parity.ts'
import { readNpy } from '../../../functions/release/npy.ts'

// The committed artifacts (models/manifest.json): onnxruntime-node must reproduce PyTorch's
// outputs on the saved cases, at batch, list and history sizes other than the export's.
describe('committed ONNX models match PyTorch', () => {
  const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as { models: Record<string, ModelSpec> }

  it('lists the models with their input and output names, shapes and dtypes', () => {
    expect(Object.keys(manifest.models).sort()).toEqual(['armmt', 'edge_head', 'item_tower', 'query_tower'])
    for (const spec of Object.values(manifest.models)) {
      expect(existsSync(`models/${spec.file}`), spec.file).toBe(true)
      for (const io of [...spec.inputs, ...spec.outputs]) {
        expect(io.dtype).toBe('float32')
        expect(io.shape[0]).toBe('batch')
      }
    }
  })

  it('states each input shape as the saved cases have it (fixed sizes fixed, named axes consistent)', () => {
    for (const [name, spec] of Object.entries(manifest.models)) {
      const sizes: Record<string, number> = {}
      for (const input of spec.inputs) {
        const actual = readNpy(`models/${spec.parity}/input.${input.name}.npy`).shape
        expect(input.shape.length, `${name}.${input.name}`).toBe(actual.length)
        input.shape.forEach((d, i) => {
          if (typeof d === 'number') expect(actual[i], `${name}.${input.name}[${i}]`).toBe(d)
          else expect((sizes[d] ??= actual[i]), `${name}.${input.name}[${i}] is axis ${d}`).toBe(actual[i])
        })
      }
    }
  })

  for (const [name, spec] of Object.entries(manifest.models))
    it(`${name}: max |onnxruntime-node − torch| ≤ 1e-4`, async () => {
      expect(await parityMaxDiff('models', spec)).toBeLessThanOrEqual(1e-4)
    })
})
