import { describe, expect, it } from 'vitest'
import { assembleInputs, FeatureError, type InputSources } from '../../../functions/shared/model-inputs.ts'
import type { ModelSpec } from '../../../functions/release/manifest.ts'

// Feature assembly from the manifest, on a toy model: items are [value, price] pairs.
type Item = { v: Float32Array; price: number }
const item = (x: number, price = 2): Item => ({ v: Float32Array.of(x, x), price })
const sources: InputSources<Item> = {
  query: { kind: 'vector', name: 'query' },
  items: { kind: 'field', axis: 'list', read: (i) => i.v },
  price: { kind: 'field', axis: 'list', read: (i) => i.price, pad: 1, positive: true },
  mask: { kind: 'mask', axis: 'list' },
  hist: { kind: 'field', axis: 'history', read: (i) => i.v },
  hist_mask: { kind: 'mask', axis: 'history' },
}
const spec = (names: string[]): ModelSpec => ({
  file: 'toy.onnx',
  inputs: names.map((name) => ({
    name,
    dtype: 'float32',
    shape: {
      query: ['batch', 2],
      items: ['batch', 'list', 2],
      price: ['batch', 'list'],
      mask: ['batch', 'list'],
      hist: ['batch', 'history', 2],
      hist_mask: ['batch', 'history'],
      colour: ['batch', 'list'],
    }[name]!,
  })),
  outputs: [{ name: 'score', dtype: 'float32', shape: ['batch', 'list'] }],
})
const two = [
  { vectors: { query: Float32Array.of(9, 9) }, list: [item(1), item(2)], history: [item(5)] },
  { vectors: { query: Float32Array.of(8, 8) }, list: [item(3)], history: [] },
]

describe('assembleInputs', () => {
  it('pads a batch to its longest list and history, with masks and pad values', () => {
    const feeds = assembleInputs(spec(['query', 'items', 'price', 'mask', 'hist', 'hist_mask']), sources, two)
    expect(feeds.items).toEqual({ dims: [2, 2, 2], data: Float32Array.of(1, 1, 2, 2, 3, 3, 0, 0) })
    expect(feeds.price.data).toEqual(Float32Array.of(2, 2, 2, 1))
    expect(feeds.mask.data).toEqual(Float32Array.of(1, 1, 1, 0))
    expect(feeds.hist).toEqual({ dims: [2, 1, 2], data: Float32Array.of(5, 5, 0, 0) })
    expect(feeds.hist_mask.data).toEqual(Float32Array.of(1, 0))
    expect(feeds.query.data).toEqual(Float32Array.of(9, 9, 8, 8))
  })

  it('gives a cold batch one masked history slot', () => {
    const feeds = assembleInputs(spec(['hist_mask']), sources, [two[1]])
    expect(feeds.hist_mask).toEqual({ dims: [1, 1], data: Float32Array.of(0) })
  })

  it('assembles a model reading a subset of the sources, and refuses one asking for another, by name', () => {
    expect(Object.keys(assembleInputs(spec(['items', 'mask']), sources, two))).toEqual(['items', 'mask'])
    expect(() => assembleInputs(spec(['items', 'colour']), sources, two)).toThrow(/input colour: not a feature/)
  })

  it('refuses a price that is not a positive number, naming the input and the row', () => {
    const bad = [{ ...two[0], list: [item(1), item(2, Number.NaN)] }]
    expect(() => assembleInputs(spec(['price']), sources, bad)).toThrow(FeatureError)
    expect(() => assembleInputs(spec(['price']), sources, bad)).toThrow(/input price: list\[1\] is NaN/)
  })

  it('refuses a vector of the wrong width', () => {
    const bad = [{ ...two[0], list: [{ v: Float32Array.of(1, 2, 3), price: 2 }] }]
    expect(() => assembleInputs(spec(['items']), sources, bad)).toThrow(/list\[0\] has 3 floats, expected 2/)
  })
})
