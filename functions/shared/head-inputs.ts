/**
 * Feature assembly for the edge head: one request's query vector, candidate records (vector +
 * price) and history vectors → the head's input tensors, named, typed and shaped as the manifest says. The edge
 * (onnxruntime-web), the fixtures' reference scores (onnxruntime-node) and any other caller build
 * the same tensors here, so their scores are comparable.
 */
import { concreteDims, type ModelSpec } from './manifest.ts'

/** What the head reads per candidate: its item record, decoded. */
export interface ItemFeatures {
  /** The fused item embedding, `dim` floats (int8-dequantized). */
  vector: Float32Array
  /** The catalog price (> 0): the head reads its log. */
  price: number
}

export interface HeadFeatures {
  /** The query embedding, `dim` floats. */
  query: Float32Array
  /** One record per scored candidate, in list order. */
  items: ItemFeatures[]
  /** The user's history, newest first (may be empty: the head has a learned "no history" slot). */
  history: Float32Array[]
}

export interface InputTensor {
  dims: number[]
  data: Float32Array
}

/** The history axis is never empty: a cold user gets one masked slot. */
const MIN_HISTORY = 1

export function assembleHeadInputs(spec: ModelSpec, dim: number, f: HeadFeatures): Record<string, InputTensor> {
  const list = f.items.length
  const history = Math.max(MIN_HISTORY, f.history.length)
  if (list === 0) throw new Error('assembleHeadInputs: no candidates to score')
  const checkDim = (v: Float32Array, what: string) => {
    if (v.length !== dim) throw new Error(`assembleHeadInputs: ${what} has ${v.length} floats, expected ${dim}`)
  }
  checkDim(f.query, 'query')
  f.items.forEach((c, i) => {
    if (!(Number.isFinite(c.price) && c.price > 0))
      throw new Error(`assembleHeadInputs: items[${i}] has price ${c.price}, expected a positive number`)
  })
  const stack = (vs: Float32Array[], rows: number, what: string) => {
    const out = new Float32Array(rows * dim)
    vs.forEach((v, i) => (checkDim(v, `${what}[${i}]`), out.set(v, i * dim)))
    return out
  }
  const mask = (n: number, rows: number) => new Float32Array(rows).fill(1, 0, n)
  const data: Record<string, Float32Array> = {
    query: f.query,
    items: stack(
      f.items.map((c) => c.vector),
      list,
      'items',
    ),
    price: Float32Array.from(f.items, (c) => c.price),
    mask: mask(list, list),
    history: stack(f.history, history, 'history'),
    hist_mask: mask(f.history.length, history),
  }
  const sizes = { batch: 1, list, history }
  const feeds: Record<string, InputTensor> = {}
  for (const input of spec.inputs) {
    if (input.dtype !== 'float32') throw new Error(`head input ${input.name}: dtype ${input.dtype}, expected float32`)
    const d = data[input.name]
    if (!d)
      throw new Error(`head input ${input.name}: not a feature the edge assembles (${Object.keys(data).join(', ')})`)
    const dims = concreteDims(input, sizes)
    const size = dims.reduce((a, b) => a * b, 1)
    if (size !== d.length)
      throw new Error(
        `head input ${input.name}: manifest shape [${input.shape}] → [${dims}] holds ${size} floats, the features hold ${d.length}`,
      )
    feeds[input.name] = { dims, data: d }
  }
  return feeds
}
