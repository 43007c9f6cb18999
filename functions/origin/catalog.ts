/**
 * What the origin's teacher reads about the catalog, held in typed arrays loaded once at start (no
 * object per item): each item's raw text and image features and price, and the query vectors by
 * normalized query text. Memory grows linearly with the catalog: (text + image dims) × 4 bytes +
 * 4 per item, plus the ids.
 */
import { normalizeQuery } from '../shared/query-text.ts'

export interface CatalogArrays {
  /** Item ids, row i = item i. */
  ids: string[]
  /** [items, textDim] and [items, imageDim] float32, and [items] prices (> 0). */
  text: Float32Array
  image: Float32Array
  price: Float32Array
  /** Query texts and their vectors [queries, textDim] (the ones the catalog was embedded with). */
  queries: { texts: string[]; vectors: Float32Array }
}

export class CatalogError extends Error {
  override name = 'CatalogError'
}

export class OriginCatalog {
  readonly size: number
  readonly textDim: number
  readonly imageDim: number
  readonly #rows = new Map<string, number>()
  readonly #queries = new Map<string, number>()

  constructor(private readonly a: CatalogArrays) {
    const n = (this.size = a.ids.length)
    if (!n) throw new CatalogError('the catalog is empty')
    this.textDim = a.text.length / n
    this.imageDim = a.image.length / n
    if (!Number.isInteger(this.textDim) || !Number.isInteger(this.imageDim) || a.price.length !== n)
      throw new CatalogError(`${n} ids but ${a.text.length} text, ${a.image.length} image and ${a.price.length} prices`)
    a.ids.forEach((id, i) => {
      if (this.#rows.has(id)) throw new CatalogError(`item ${id} appears twice`)
      if (!(a.price[i] > 0 && Number.isFinite(a.price[i]))) throw new CatalogError(`item ${id}: price ${a.price[i]}`)
      this.#rows.set(id, i)
    })
    if (a.queries.vectors.length !== a.queries.texts.length * this.textDim)
      throw new CatalogError(`${a.queries.texts.length} queries but ${a.queries.vectors.length} query floats`)
    // Queries sharing a normalized text share a vector: the first wins (as in KV).
    a.queries.texts.forEach((t, q) => {
      const key = normalizeQuery(t)
      if (!this.#queries.has(key)) this.#queries.set(key, q)
    })
  }

  /** The item's row, or undefined when the catalog has no such item. */
  row(id: string): number | undefined {
    return this.#rows.get(id)
  }

  text(row: number): Float32Array {
    return this.a.text.subarray(row * this.textDim, (row + 1) * this.textDim)
  }

  image(row: number): Float32Array {
    return this.a.image.subarray(row * this.imageDim, (row + 1) * this.imageDim)
  }

  price(row: number): number {
    return this.a.price[row]
  }

  /** The stored vector of a normalized query, or undefined. */
  queryVector(query: string): Float32Array | undefined {
    const q = this.#queries.get(query)
    return q === undefined ? undefined : this.a.queries.vectors.subarray(q * this.textDim, (q + 1) * this.textDim)
  }

  /** Bytes of the feature arrays (what grows with the catalog, ids aside). */
  get featureBytes(): number {
    return (
      this.a.text.byteLength + this.a.image.byteLength + this.a.price.byteLength + this.a.queries.vectors.byteLength
    )
  }
}
