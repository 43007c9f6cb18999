import { Rng } from './rng.ts'

/**
 * A fixed, seeded, nonlinear "encoder": bag of tokens → token table → 2-layer tanh MLP →
 * unit vector. It stands in for the text and image encoders an e-commerce site already
 * runs upstream: the world's models see only these outputs (plus noise), never the attributes.
 */
export class Encoder {
  private readonly table: Float32Array // [vocab, hidden]
  private readonly w1: Float32Array // [2*hidden, hidden]
  private readonly b1: Float32Array // [2*hidden]
  private readonly w2: Float32Array // [dim, 2*hidden]
  private readonly inner: number

  constructor(
    seed: number,
    name: string,
    readonly vocab: number,
    readonly dim: number,
    readonly hidden = 128,
  ) {
    const rng = new Rng(seed, `encoder/${name}`)
    this.inner = 2 * hidden
    this.table = gaussian(rng, vocab * hidden, 1)
    this.w1 = gaussian(rng, this.inner * hidden, 1.5 / Math.sqrt(hidden))
    this.b1 = gaussian(rng, this.inner, 0.3)
    this.w2 = gaussian(rng, dim * this.inner, 1 / Math.sqrt(this.inner))
  }

  /** Unit-norm encoding of a bag of token ids. */
  encode(tokens: number[]): Float32Array {
    const { hidden, inner, dim } = this
    const h = new Float64Array(hidden)
    for (const t of tokens) {
      if (t < 0 || t >= this.vocab) throw new Error(`encoder: token ${t} outside vocabulary of ${this.vocab}`)
      for (let j = 0; j < hidden; j++) h[j] += this.table[t * hidden + j]
    }
    const scale = 1 / Math.sqrt(Math.max(1, tokens.length))
    const z = new Float64Array(inner)
    for (let i = 0; i < inner; i++) {
      let s = this.b1[i]
      const row = i * hidden
      for (let j = 0; j < hidden; j++) s += this.w1[row + j] * h[j] * scale
      z[i] = Math.tanh(s)
    }
    const out = new Float32Array(dim)
    for (let i = 0; i < dim; i++) {
      let s = 0
      const row = i * inner
      for (let j = 0; j < inner; j++) s += this.w2[row + j] * z[j]
      out[i] = s
    }
    return normalize(out)
  }
}

function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std
  return a
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i] * v[i]
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0
  for (let i = 0; i < v.length; i++) v[i] *= inv
  return v
}

/** A random direction scaled to norm `level` (noise relative to a unit encoding). */
export function noiseVector(rng: Rng, dim: number, level: number): Float32Array {
  const v = new Float32Array(dim)
  for (let i = 0; i < dim; i++) v[i] = rng.normal()
  normalize(v)
  for (let i = 0; i < dim; i++) v[i] *= level
  return v
}

/** normalize(base + Σ noises), written into `out` at `offset`. */
export function writeNoisy(out: Float32Array, offset: number, base: Float32Array, ...noises: Float32Array[]): void {
  const v = Float32Array.from(base)
  for (const n of noises) for (let i = 0; i < v.length; i++) v[i] += n[i]
  out.set(normalize(v), offset)
}
