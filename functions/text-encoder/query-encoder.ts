/**
 * The query encoder the origin uses for queries it holds no vector for: the text encoder the
 * catalog's text features were made with, so a tail query lands in the space the teacher reads.
 */
import { Encoder } from './encoder.ts'
import { TextVocab } from './text-vocab.ts'

/** Encodes a normalized query into the catalog's text space; null when it cannot (no known word). */
export interface QueryEncoder {
  /** Width of the vectors it writes (the teacher's `query` input). */
  readonly dim: number
  encode(query: string): Float32Array | null
}

/** What the synthetic world's text encoder is made of: its seed and the vocabulary's sizes. */
export interface SyntheticWorldText {
  seed: number
  categories: number
  brandsPerCategory: number
  textDim: number
}

/**
 * The SYNTHETIC world's own text encoder (seeded, bag of known words), the one its generator ran
 * over titles and queries. Unknown words are dropped; a query of none has no encoding. A real
 * deployment implements `QueryEncoder` with its own text model (e.g. an ONNX encoder) instead.
 */
export class SyntheticQueryEncoder implements QueryEncoder {
  readonly dim: number
  readonly #encoder: Encoder
  readonly #words: Map<string, number>

  constructor(world: SyntheticWorldText) {
    const vocab = new TextVocab(world.categories, world.categories * world.brandsPerCategory)
    this.dim = world.textDim
    this.#encoder = new Encoder(world.seed, 'text', vocab.size, world.textDim)
    this.#words = vocab.words()
  }

  /** The known words' tokens, in query order (a word given twice counts twice, as in a bag). */
  tokens(query: string): number[] {
    return query.split(/[^\p{L}\p{N}]+/u).flatMap((w) => this.#words.get(w.toLowerCase()) ?? [])
  }

  encode(query: string): Float32Array | null {
    const tokens = this.tokens(query)
    return tokens.length ? this.#encoder.encode(tokens) : null
  }
}
