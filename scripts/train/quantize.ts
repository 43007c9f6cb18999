import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EMBEDDING_CODEC, dequantize, quantize } from '../../functions/shared/embedding-codec.ts'
import { writeNpy } from '../../functions/release/npy.ts'

export interface QuantizedSet {
  rows: number
  dim: number
  /** Largest |x − dequantized x| over every value, and the mean relative L2 error per vector. */
  max_abs_error: number
  mean_relative_error: number
}

/**
 * Quantizes item and query vectors (the release's towers over the world as a catalog, as
 * `npm run embed` runs them) with the KV codec, the same code the edge decodes with, writing
 * DIR/embeddings/{items,queries}.{int8,scale}.npy: what KV will hold, and what the edge head
 * trains and is evaluated on. Returns per-set error statistics and the embeddings' version (a
 * content hash) that names the KV key prefix.
 */
export function quantizeEmbeddings(
  vectors: { items: Float32Array[]; queries: Float32Array[] },
  out: string,
): { codec: string; version: string; sets: Record<string, QuantizedSet> } {
  const dir = join(out, 'embeddings')
  mkdirSync(dir, { recursive: true })
  // The version names the KV prefix: it changes with the vectors and with the record layout.
  const hash = createHash('sha256').update(EMBEDDING_CODEC)
  const sets: Record<string, QuantizedSet> = {}
  for (const name of ['items', 'queries'] as const) {
    const rowsOf = vectors[name]
    const rows = rowsOf.length
    const dim = rowsOf[0].length
    const q = new Int8Array(rows * dim)
    const scale = new Float32Array(rows)
    let maxAbs = 0
    let relative = 0
    for (let r = 0; r < rows; r++) {
      const x = rowsOf[r]
      const v = quantize(x)
      q.set(v.q, r * dim)
      scale[r] = v.scale
      const back = dequantize(v)
      let err = 0
      let norm = 0
      for (let i = 0; i < dim; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(x[i] - back[i]))
        err += (x[i] - back[i]) ** 2
        norm += x[i] ** 2
      }
      relative += norm > 0 ? Math.sqrt(err / norm) : 0
    }
    writeNpy(join(dir, `${name}.int8.npy`), q, [rows, dim])
    writeNpy(join(dir, `${name}.scale.npy`), scale, [rows])
    for (const f of [`${name}.int8.npy`, `${name}.scale.npy`]) hash.update(readFileSync(join(dir, f)))
    sets[name] = { rows, dim, max_abs_error: maxAbs, mean_relative_error: relative / rows }
  }
  return { codec: EMBEDDING_CODEC, version: hash.digest('hex').slice(0, 12), sets }
}
