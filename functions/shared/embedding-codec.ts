/**
 * The one codec for embeddings in KV, shared by the scripts that write KV (and the training
 * chain that quantizes the catalog) and the edge that reads it.
 *
 * Workers KV bulk reads return only text or JSON, so a vector is stored as text: base64 of
 * [scale: float32 little-endian][dim × int8]. Quantization is symmetric per vector:
 * scale = max|x| / 127, q = round(x / scale), x ≈ q · scale (float32).
 */
export const EMBEDDING_CODEC = 'int8-symmetric-per-vector+base64/v1'

export interface Quantized {
  q: Int8Array
  scale: number
}

/** A value that does not decode to a `dim`-wide vector: wrong length, bad base64 or a bad scale. */
export class CorruptEmbedding extends Error {
  override name = 'CorruptEmbedding'
}

export function quantize(x: ArrayLike<number>): Quantized {
  let maxAbs = 0
  for (let i = 0; i < x.length; i++) maxAbs = Math.max(maxAbs, Math.abs(x[i]))
  if (!Number.isFinite(maxAbs)) throw new RangeError('quantize: the vector holds a non-finite value')
  const scale = Math.fround(maxAbs / 127)
  const q = new Int8Array(x.length)
  if (scale > 0) for (let i = 0; i < x.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(x[i] / scale)))
  return { q, scale }
}

/** q · scale into `out` (float32), from `offset`; returns `out`. */
export function dequantize({ q, scale }: Quantized, out = new Float32Array(q.length), offset = 0): Float32Array {
  for (let i = 0; i < q.length; i++) out[offset + i] = q[i] * scale
  return out
}

export function encodeEmbedding({ q, scale }: Quantized): string {
  const bytes = new Uint8Array(4 + q.length)
  new DataView(bytes.buffer).setFloat32(0, scale, true)
  bytes.set(new Uint8Array(q.buffer, q.byteOffset, q.length), 4)
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
  return btoa(binary)
}

export function decodeEmbedding(text: string, dim: number): Quantized {
  let binary: string
  try {
    binary = atob(text)
  } catch {
    throw new CorruptEmbedding('not base64')
  }
  if (binary.length !== 4 + dim) throw new CorruptEmbedding(`${binary.length} bytes, expected ${4 + dim} for dim ${dim}`)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  const scale = new DataView(bytes.buffer).getFloat32(0, true)
  if (!Number.isFinite(scale) || scale < 0) throw new CorruptEmbedding(`bad scale ${scale}`)
  return { q: new Int8Array(bytes.buffer, 4, dim), scale }
}
