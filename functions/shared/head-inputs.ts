/**
 * The edge head's input table: one request's query vector, candidate records (vector + price) and
 * history records → the head's tensors (functions/shared/model-inputs.ts). The edge
 * (onnxruntime-web), the fixtures' reference scores (onnxruntime-node) and any other caller build
 * the same tensors here, so their scores are comparable.
 */
import type { ModelSpec } from '../release/manifest.ts'
import { assembleInputs, type InputSources, type InputTensor } from './model-inputs.ts'

export type { InputTensor } from './model-inputs.ts'

/** What the head reads per item: its KV record, decoded. */
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
  /** The user's history's records, newest first (may be empty: the head has a learned "no history" slot). */
  history: ItemFeatures[]
}

const HEAD_SOURCES: InputSources<ItemFeatures> = {
  query: { kind: 'vector', name: 'query' },
  items: { kind: 'field', axis: 'list', read: (f) => f.vector },
  price: { kind: 'field', axis: 'list', read: (f) => f.price, positive: true, pad: 1 },
  mask: { kind: 'mask', axis: 'list' },
  history: { kind: 'field', axis: 'history', read: (f) => f.vector },
  hist_price: { kind: 'field', axis: 'history', read: (f) => f.price, positive: true, pad: 1 },
  hist_mask: { kind: 'mask', axis: 'history' },
}

export function assembleHeadInputs(spec: ModelSpec, f: HeadFeatures): Record<string, InputTensor> {
  return assembleInputs(spec, HEAD_SOURCES, [{ vectors: { query: f.query }, list: f.items, history: f.history }])
}
