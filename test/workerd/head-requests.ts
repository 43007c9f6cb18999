/**
 * The edge head's parity requests as the tests pass them around: exported by the Python side with
 * PyTorch's scores (models/export.py `export_head_requests`), read in Node (head-reference.ts) and
 * sent into workerd as plain numbers, turned back into the head's input here.
 */
import type { HeadFeatures } from '../../functions/shared/head-inputs.ts'

/** One exported request, as plain numbers so it crosses into workerd as JSON. */
export interface HeadRequestCase {
  /** Its directory's name: l{candidates}-h{history items}. */
  name: string
  query: number[]
  items: { vector: number[]; price: number }[]
  history: { vector: number[]; price: number }[]
  /** PyTorch's score per candidate, in list order. */
  torchScores: number[]
}

/** An exported request as the head takes it: the same numbers, in HeadFeatures' typed arrays. */
export function headFeatures(r: HeadRequestCase): HeadFeatures {
  const record = (x: { vector: number[]; price: number }) => ({ vector: Float32Array.from(x.vector), price: x.price })
  return { query: Float32Array.from(r.query), items: r.items.map(record), history: r.history.map(record) }
}
