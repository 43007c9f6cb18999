import { createHash } from 'node:crypto'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'

type Generator = ReturnType<typeof xoroshiro128plus>

/**
 * Seeded random stream. Each part of the world draws from its own named stream
 * (`new Rng(seed, 'items')`), so changing how one part draws never shifts another
 * part's numbers, and the output depends only on (seed, stream name).
 */
export class Rng {
  private readonly gen: Generator
  private spare: number | null = null

  constructor(seed: number, stream: string) {
    const digest = createHash('sha256').update(`${seed}/${stream}`).digest()
    this.gen = xoroshiro128plus(digest.readInt32LE(0))
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen)
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n)
  }

  /** Standard normal (Box–Muller, the second draw kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    let u = this.uniform()
    while (u === 0) u = this.uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    const t = 2 * Math.PI * this.uniform()
    this.spare = r * Math.sin(t)
    return r * Math.cos(t)
  }

  bernoulli(p: number): boolean {
    return this.uniform() < p
  }

  /** Index drawn with probability proportional to weights[i] (weights ≥ 0). */
  categorical(weights: ArrayLike<number>): number {
    let total = 0
    for (let i = 0; i < weights.length; i++) total += weights[i]
    let x = this.uniform() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(xs: T[] | Int32Array): typeof xs {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = xs[i]
      xs[i] = xs[j]
      xs[j] = t
    }
    return xs
  }

  /** k distinct integers from [0, n), k ≤ n (Floyd's algorithm, order random). */
  sample(n: number, k: number): number[] {
    const chosen = new Set<number>()
    for (let j = n - k; j < n; j++) {
      const t = this.int(j + 1)
      chosen.add(chosen.has(t) ? j : t)
    }
    return this.shuffle([...chosen]) as number[]
  }
}
