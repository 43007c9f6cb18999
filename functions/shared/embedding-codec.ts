/**
 * The one codec for what KV holds per item and per query, shared by the scripts that write KV (and
 * the training chain that quantizes the catalog) and the edge that reads it.
 *
 * Workers KV bulk reads return only text or JSON, so a record is stored as base64 text:
 *   query record: [scale: float32][dim × int8]
 *   item record:  [scale: float32][price: float32][dim × int8]
 * (float32 little-endian). The item record carries the catalog price beside the vector because
 * the head scores with it and it is read in the same KV get, at no extra read. Quantization is
 * symmetric per vector: scale = max|x| / 127, q = round(x / scale), x ≈ q · scale (float32).
 */
export const EMBEDDING_CODEC = 'int8-symmetric-per-vector+base64/v2 (item records: + float32 price)'

export interface Quantized {
  q: Int8Array
  scale: number
}

/** An item's record: its quantized vector and its catalog price (> 0). */
export interface ItemRecord {
  vector: Quantized
  price: number
}

/** A value that does not decode to a `dim`-wide record: wrong length, bad base64, a bad scale or price. */
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

/** q · scale, float32. A plain loop: a fresh isolate decodes every record of its first requests
 *  before the JIT has seen this code, and a per-element callback costs many times more there. */
export function dequantize({ q, scale }: Quantized): Float32Array {
  const out = new Float32Array(q.length)
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale
  return out
}

/** [scale][...floats][q] as base64. */
function pack({ q, scale }: Quantized, floats: number[]): string {
  const head = 4 * (1 + floats.length)
  const bytes = new Uint8Array(head + q.length)
  const view = new DataView(bytes.buffer)
  ;[scale, ...floats].forEach((f, i) => view.setFloat32(4 * i, f, true))
  bytes.set(new Uint8Array(q.buffer, q.byteOffset, q.length), head)
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
  return btoa(binary)
}

/** The inverse of `pack` for `floats` leading floats after the scale. */
function unpack(text: string, dim: number, floats: number): { vector: Quantized; floats: number[] } {
  let binary: string
  try {
    binary = atob(text)
  } catch {
    throw new CorruptEmbedding('not base64')
  }
  const head = 4 * (1 + floats)
  if (binary.length !== head + dim)
    throw new CorruptEmbedding(`${binary.length} bytes, expected ${head + dim} for dim ${dim}`)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  const view = new DataView(bytes.buffer)
  const scale = view.getFloat32(0, true)
  if (!Number.isFinite(scale) || scale < 0) throw new CorruptEmbedding(`bad scale ${scale}`)
  const rest = Array.from({ length: floats }, (_, i) => view.getFloat32(4 * (i + 1), true))
  return { vector: { q: new Int8Array(bytes.buffer, head, dim), scale }, floats: rest }
}

/** A query record. */
export function encodeQueryRecord(v: Quantized): string {
  return pack(v, [])
}

export function decodeQueryRecord(text: string, dim: number): Quantized {
  return unpack(text, dim, 0).vector
}

export function encodeItemRecord({ vector, price }: ItemRecord): string {
  if (!(Number.isFinite(price) && price > 0))
    throw new RangeError(`encodeItemRecord: price must be a positive number, got ${price}`)
  return pack(vector, [price])
}

export function decodeItemRecord(text: string, dim: number): ItemRecord {
  const { vector, floats } = unpack(text, dim, 1)
  const price = floats[0]
  if (!(Number.isFinite(price) && price > 0)) throw new CorruptEmbedding(`bad price ${price}`)
  return { vector, price }
}

/** A query record as the head reads it: the dequantized vector. */
export function readQueryVector(text: string, dim: number): Float32Array {
  return dequantize(decodeQueryRecord(text, dim))
}

/** An item record as the head reads it: the dequantized vector and the price. */
export function readItemFeatures(text: string, dim: number): { vector: Float32Array; price: number } {
  const { vector, price } = decodeItemRecord(text, dim)
  return { vector: dequantize(vector), price }
}
