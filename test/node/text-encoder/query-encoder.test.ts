import { describe, expect, it } from 'vitest'
import { SyntheticQueryEncoder } from '../../../functions/text-encoder/query-encoder.ts'
import { smokeWorld } from '../world/fixture.ts'

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0) // both unit norm

describe('SyntheticQueryEncoder (the origin’s encoder for tail queries)', () => {
  const world = smokeWorld()
  const { config, seed } = world
  const encoder = new SyntheticQueryEncoder({
    seed,
    categories: config.categories,
    brandsPerCategory: config.brandsPerCategory,
    textDim: config.textDim,
  })

  it("re-encodes every query's text to the world's own query vector, but for its noise", () => {
    let worst = 1
    world.queries.meta.forEach((q, i) => {
      const stored = world.queries.emb.subarray(i * config.textDim, (i + 1) * config.textDim)
      worst = Math.min(worst, cosine(encoder.encode(q.text)!, stored))
    })
    expect(worst).toBeGreaterThan(0.95) // query noise is 0.15 of the norm
  })

  it('reads the known words of a tail query and drops the rest', () => {
    const [first] = world.queries.meta
    expect(encoder.encode(`hand-knitted ${first.text} for grandma`)).toEqual(encoder.encode(first.text))
  })

  it('has no encoding for a query without a known word', () => {
    expect(encoder.encode('zqx plorfwig')).toBeNull()
  })
})
