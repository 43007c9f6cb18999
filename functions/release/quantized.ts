/**
 * The release's int8 embedding tables as committed (models/embeddings): `<base>.int8.npy`
 * [rows, dim] and `<base>.scale.npy` [rows], one row per item or query, in the shared codec's
 * layout (functions/shared/embedding-codec.ts).
 */
import { join } from 'node:path'
import type { Quantized } from '../shared/embedding-codec.ts'
import { readNpy } from './npy.ts'

export interface QuantizedTable {
  rows: number
  dim: number
  q: Int8Array
  scale: Float32Array
}

/**
 * A committed int8 table, checked to be int8 [rows, dim] with one float32 scale per row.
 *
 * @example
 * const items = readQuantized('models', manifest.embedding.files.items)
 */
export function readQuantized(modelsDir: string, base: string): QuantizedTable {
  const q = readNpy(join(modelsDir, `${base}.int8.npy`))
  const scale = readNpy(join(modelsDir, `${base}.scale.npy`))
  if (q.dtype !== 'int8' || scale.dtype !== 'float32' || q.shape.length !== 2 || scale.shape[0] !== q.shape[0])
    throw new Error(
      `${base}: expected int8 [rows, dim] and float32 [rows], got ${q.dtype} [${q.shape}] and ${scale.dtype} [${scale.shape}]`,
    )
  return { rows: q.shape[0], dim: q.shape[1], q: q.data as Int8Array, scale: scale.data as Float32Array }
}

/** Row `row` of the table, as the codec takes it (a view, not a copy). */
export function tableRow(t: QuantizedTable, row: number): Quantized {
  return { q: t.q.subarray(row * t.dim, (row + 1) * t.dim), scale: t.scale[row] }
}
