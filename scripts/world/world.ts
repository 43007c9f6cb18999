import type { WorldConfig } from './config.ts'

/** The world in memory: what the generator builds and what `loadWorld` reads back. */
export interface ItemMeta {
  id: string
  family: number
  title: string
  category: string
  brand: string
  material: string
  colour: string
  pattern: string
  shape: string
  price: number
}

export interface QueryMeta {
  id: string
  text: string
  category: string
  brand: string | null
  material: string | null
  colour: string | null
  pattern: string | null
}

export interface UserMeta {
  id: string
  historyLength: number
}

export interface World {
  config: WorldConfig
  seed: number
  items: {
    count: number
    attr: Int32Array // [items, ITEM_ATTR_COLS]
    price: Float32Array // [items]
    priceZ: Float32Array // [items] log(price / category median price)
    textEmb: Float32Array // [items, textDim]
    imageEmb: Float32Array // [items, imageDim]
    meta: ItemMeta[]
  }
  brandTier: Float32Array // [brands]
  users: {
    count: number
    history: Int32Array // [users, historyMax], newest first, -1 = padding
    taste: Float32Array // [users, layout.width] (hidden truth)
    meta: UserMeta[]
  }
  queries: {
    count: number
    attr: Int32Array // [queries, QUERY_ATTR_COLS], -1 = not requested
    emb: Float32Array // [queries, textDim]
    meta: QueryMeta[]
  }
  sessions: {
    count: number
    table: Int32Array // [sessions, 4]: user, query, split (0 train, 1 valid, 2 test), list length
    offset: Int32Array // [sessions + 1]: candidate rows of session s are offset[s] .. offset[s+1]
  }
  candidates: {
    count: number
    item: Int32Array // [rows] in displayed (retrieval) order within each session
    retrieval: Float32Array // [rows] retrieval score (descending within a session)
    click: Uint8Array // [rows]
    purchase: Uint8Array // [rows]
    pClick: Float32Array // [rows] true, without position bias or list effect
    pPurchase: Float32Array // [rows] true, without position bias or list effect
    utility: Float32Array // [rows, 3] true utility parts: shared, text, image
  }
}

export const SESSION_COLS = 4
export const SESSION = { user: 0, query: 1, split: 2, length: 3 } as const
export const SPLITS = ['train', 'valid', 'test'] as const
export type Split = (typeof SPLITS)[number]
export const UTILITY_COLS = 3
