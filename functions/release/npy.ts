import { readFileSync, writeFileSync } from 'node:fs'

/**
 * Minimal NumPy `.npy` (format 1.0) codec for the dtypes the world uses, so Python
 * can `np.load(..., mmap_mode="r")` what TypeScript wrote and the other way round.
 * npm has .npy parsers but no maintained writer; the format is a fixed header + raw data.
 */
export type Dtype = 'float32' | 'int32' | 'uint8' | 'int8'
export type TypedArray = Float32Array | Int32Array | Uint8Array | Int8Array

const DESCR: Record<Dtype, string> = { float32: '<f4', int32: '<i4', uint8: '|u1', int8: '|i1' }
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00])

export interface NdArray<T extends TypedArray = TypedArray> {
  dtype: Dtype
  shape: number[]
  data: T
}

export function dtypeOf(data: TypedArray): Dtype {
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Int32Array) return 'int32'
  if (data instanceof Int8Array) return 'int8'
  return 'uint8'
}

export function encodeNpy(data: TypedArray, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1)
  if (count !== data.length) throw new Error(`npy: shape [${shape}] holds ${count} values, data has ${data.length}`)
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  let header = `{'descr': '${DESCR[dtypeOf(data)]}', 'fortran_order': False, 'shape': ${shapeText}, }`
  // Header is padded with spaces so that data starts on a 64-byte boundary (NumPy's own rule).
  const total = MAGIC.length + 2 + header.length + 1
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n'
  const len = Buffer.alloc(2)
  len.writeUInt16LE(header.length)
  return Buffer.concat([
    MAGIC,
    len,
    Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ])
}

export function decodeNpy(buf: Buffer): NdArray {
  if (!buf.subarray(0, 6).equals(MAGIC.subarray(0, 6))) throw new Error('npy: bad magic')
  const major = buf[6]
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8)
  const start = major === 1 ? 10 : 12
  const header = buf.subarray(start, start + headerLen).toString('latin1')
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (/'fortran_order':\s*True/.test(header)) throw new Error('npy: fortran order is not supported')
  const dtype = (Object.keys(DESCR) as Dtype[]).find((d) => DESCR[d] === descr)
  if (!dtype || shapeText === undefined) throw new Error(`npy: unsupported header ${header.trim()}`)
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number)
  // Copy so the typed array is aligned regardless of where the Buffer's bytes sit.
  const bytes = new Uint8Array(buf.subarray(start + headerLen))
  const data =
    dtype === 'float32'
      ? new Float32Array(bytes.buffer)
      : dtype === 'int32'
        ? new Int32Array(bytes.buffer)
        : dtype === 'int8'
          ? new Int8Array(bytes.buffer)
          : bytes
  return { dtype, shape, data }
}

export function writeNpy(path: string, data: TypedArray, shape: number[]): Buffer {
  const buf = encodeNpy(data, shape)
  writeFileSync(path, buf)
  return buf
}

export function readNpy(path: string): NdArray {
  return decodeNpy(readFileSync(path))
}
