import { describe, expect, it } from 'vitest'
import { decodeNpy, encodeNpy } from '../../../functions/release/npy.ts'

describe('npy codec', () => {
  it('round-trips each dtype with its shape', () => {
    const cases = [
      [Float32Array.from([1.5, -2, 3.25, 0, 1e-8, 7]), [2, 3]],
      [Int32Array.from([-1, 0, 2 ** 31 - 1]), [3]],
      [Uint8Array.from([0, 1, 255, 7]), [4, 1]],
    ] as const
    for (const [data, shape] of cases) {
      const back = decodeNpy(encodeNpy(data, [...shape]))
      expect(back.shape).toEqual(shape)
      expect(Array.from(back.data)).toEqual(Array.from(data))
    }
  })

  it('aligns the data to 64 bytes and writes a NumPy 1.0 header', () => {
    const buf = encodeNpy(new Float32Array(5), [5])
    const headerLen = buf.readUInt16LE(8)
    expect((10 + headerLen) % 64).toBe(0)
    expect(buf.subarray(10, 10 + headerLen).toString('latin1')).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(5,\), \} *\n$/,
    )
  })

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy(new Int32Array(6), [4, 2])).toThrow(/holds 8 values, data has 6/)
  })
})
