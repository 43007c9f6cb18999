import { describe, expect, it } from 'vitest'
import {
  CorruptEmbedding,
  decodeQueryRecord,
  decodeItemRecord,
  dequantize,
  encodeQueryRecord,
  encodeItemRecord,
  quantize,
} from '../../../functions/shared/embedding-codec.ts'

describe('the KV record codec (int8 + scale, base64 text)', () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i % 5 === 0 ? 0.9 : 0.2))

  it('round-trips through text within half a quantization step', () => {
    const q = quantize(x)
    expect(q.scale).toBe(Math.fround(Math.max(...Array.from(x, Math.abs)) / 127))
    const back = dequantize(decodeQueryRecord(encodeQueryRecord(q), 64))
    for (let i = 0; i < 64; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(q.scale / 2 + 1e-7)
    // The largest component maps to ±127 exactly.
    expect(Math.max(...Array.from(q.q, Math.abs))).toBe(127)
  })

  it('stores 4 + dim bytes as base64 text', () => {
    const text = encodeQueryRecord(quantize(x))
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect(atob(text).length).toBe(68)
  })

  it('encodes a zero vector with scale 0 and decodes it to zeros', () => {
    const back = dequantize(decodeQueryRecord(encodeQueryRecord(quantize(new Float32Array(8))), 8))
    expect(Array.from(back)).toEqual(new Array(8).fill(0))
  })

  it('rejects a non-finite vector', () => {
    expect(() => quantize([1, Number.NaN])).toThrow(RangeError)
  })

  it('names what is wrong with a corrupt value', () => {
    const good = encodeQueryRecord(quantize(x))
    expect(() => decodeQueryRecord(good, 32)).toThrow(CorruptEmbedding)
    expect(() => decodeQueryRecord(good, 32)).toThrow(/68 bytes, expected 36/)
    expect(() => decodeQueryRecord('%%% not base64', 64)).toThrow(/not base64/)
    const nanScale = new Uint8Array(68)
    new DataView(nanScale.buffer).setFloat32(0, Number.NaN, true)
    expect(() => decodeQueryRecord(btoa(String.fromCharCode(...nanScale)), 64)).toThrow(/bad scale/)
  })

  it('item records carry the price beside the vector (8 + dim bytes) and round-trip both', () => {
    const text = encodeItemRecord({ vector: quantize(x), price: 19.99 })
    expect(atob(text).length).toBe(72)
    const back = decodeItemRecord(text, 64)
    expect(back.price).toBe(Math.fround(19.99))
    expect(Array.from(dequantize(back.vector))).toEqual(Array.from(dequantize(quantize(x))))
    // A query record is not an item record, and the other way round: the lengths differ.
    expect(() => decodeItemRecord(encodeQueryRecord(quantize(x)), 64)).toThrow(/68 bytes, expected 72/)
    expect(() => decodeQueryRecord(text, 64)).toThrow(/72 bytes, expected 68/)
  })

  it('rejects a price that is not a positive number, writing or reading', () => {
    for (const price of [0, -3, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => encodeItemRecord({ vector: quantize(x), price })).toThrow(/price must be a positive number/)
    const bytes = new Uint8Array(72)
    new DataView(bytes.buffer).setFloat32(4, -1, true)
    expect(() => decodeItemRecord(btoa(String.fromCharCode(...bytes)), 64)).toThrow(CorruptEmbedding)
    expect(() => decodeItemRecord(btoa(String.fromCharCode(...bytes)), 64)).toThrow(/bad price -1/)
  })
})
