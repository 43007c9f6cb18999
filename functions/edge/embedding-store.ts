/**
 * Reads what the head needs from Workers KV: item records (vector + catalog price) and query
 * vectors (embedding codec text under the release's versioned prefix) and user histories (by
 * keyed user hash).
 *
 * KV bulk reads take at most 100 keys and only text/JSON, so keys go out in chunks of 100,
 * concurrently, as text with `cacheTtl`. Decoded records stay in an in-isolate LRU bounded in
 * bytes, so a hot catalog costs no KV read at all.
 */
import { LRUCache } from 'lru-cache'
import { CorruptEmbedding, readItemFeatures, readQueryVector } from '../shared/embedding-codec.ts'
import type { ItemFeatures } from '../shared/head-inputs.ts'
import { itemKey, metaKey, queryKey } from '../shared/kv-keys.ts'
import { ITEM_ID } from '../shared/rerank-api.ts'

const KV_BULK_LIMIT = 100

/** KV could not be read (binding missing, operation failed): the edge cannot score. */
export class KvUnavailable extends Error {
  override name = 'KvUnavailable'
}

export interface StoreOptions {
  prefix: string
  dim: number
  /** KV edge-cache TTL of records (s). */
  cacheTtl: number
  /** KV edge-cache TTL of stored histories (s): short, since events keep changing them. */
  historyCacheTtl?: number
  vectorCacheBytes: number
}

export interface Lookup {
  /** Decoded item records by item id (only those found and intact). */
  items: Map<string, ItemFeatures>
  /** Query vector, or null when the query has none. */
  query: Float32Array | null
  /** The user's history read from KV (item ids, newest first); null when not read or none is stored. */
  history: string[] | null
  /** Record keys whose value did not decode (wrong length, bad base64, bad scale or price). */
  corrupt: string[]
  /** The stored history was there but unreadable (not a JSON list of item ids). */
  historyCorrupt: boolean
  /** Bulk read calls made, and keys that came from the in-isolate LRU. */
  reads: number
  lruHits: number
}

/** A decoded record as the LRU keeps it and lookups hand it out (no copy): a query's vector, or an
 *  item's features. */
export type Decoded = Float32Array | ItemFeatures

let records: LRUCache<string, Decoded> | undefined

/**
 * What one LRU entry is charged: its floats, its key, and what V8 holds around them (the typed
 * array and its buffer, the record object, the LRU's own slots), charged generously so that
 * VECTOR_CACHE_MB bounds real memory, not just the floats.
 */
export const ENTRY_OVERHEAD_BYTES = 512

export function recordCharge(value: Decoded, key: string): number {
  return (value instanceof Float32Array ? value : value.vector).byteLength + 2 * key.length + ENTRY_OVERHEAD_BYTES
}

/** The isolate's LRU; entries live as long as KV's own edge cache, so a re-seeded price or vector
 * reaches the head within twice `cacheTtl` rather than whenever the isolate dies. */
function recordCache(bytes: number, ttlS: number): LRUCache<string, Decoded> | undefined {
  if (bytes <= 0) return undefined
  if (!records || records.maxSize !== bytes || records.ttl !== ttlS * 1000)
    records = new LRUCache<string, Decoded>({
      maxSize: bytes,
      ttl: ttlS * 1000,
      sizeCalculation: recordCharge,
    })
  return records
}

/** Recent queries' KV keys: a query's key is a SHA-256 of its text, and a storefront's queries
 *  repeat (the records themselves are in `records`). */
const queryKeys = new LRUCache<string, string>({ max: 4096 })

async function queryKeyOf(prefix: string, query: string): Promise<string> {
  const name = `${prefix}\n${query}`
  let key = queryKeys.get(name)
  if (key === undefined) queryKeys.set(name, (key = await queryKey(prefix, query)))
  return key
}

/** The query vector's name in a lookup round (item ids never contain a space). */
const QUERY = ' query'

function decode(name: string, text: string, dim: number): Decoded {
  return name === QUERY ? readQueryVector(text, dim) : readItemFeatures(text, dim)
}

function place(out: Lookup, name: string, d: Decoded): void {
  if (d instanceof Float32Array) out.query = d
  else out.items.set(name, d)
}

export class EmbeddingStore {
  readonly #lru: LRUCache<string, Decoded> | undefined

  constructor(
    private readonly kv: KVNamespace | undefined,
    private readonly opts: StoreOptions,
  ) {
    this.#lru = recordCache(opts.vectorCacheBytes, opts.cacheTtl)
  }

  /** Text values of `keys`, by key (null: absent), in concurrent bulk reads of ≤ 100 keys. */
  async #bulkText(
    keys: string[],
    cacheTtl = this.opts.cacheTtl,
  ): Promise<{ values: Map<string, string | null>; reads: number }> {
    const kv = this.kv
    if (!kv) throw new KvUnavailable('the EMBEDDINGS KV binding is missing')
    const chunks: string[][] = []
    for (let i = 0; i < keys.length; i += KV_BULK_LIMIT) chunks.push(keys.slice(i, i + KV_BULK_LIMIT))
    try {
      const maps = await Promise.all(chunks.map((chunk) => kv.get(chunk, { type: 'text', cacheTtl })))
      const values = new Map<string, string | null>()
      for (const m of maps) for (const [k, v] of m) values.set(k, v)
      return { values, reads: chunks.length }
    } catch (e) {
      throw new KvUnavailable(`KV read failed: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  /**
   * Records for `wanted` (LRU first, then KV) plus the raw text of `extra` keys, in one round of
   * bulk reads. Found records land in `out` under their name (an item id, or QUERY).
   */
  async #round(wanted: Map<string, string>, extra: string[], out: Lookup): Promise<Map<string, string | null>> {
    const fromKv: [string, string][] = []
    for (const [name, key] of wanted) {
      const hit = this.#lru?.get(key)
      if (hit) (out.lruHits++, place(out, name, hit))
      else fromKv.push([name, key])
    }
    const keys = fromKv.map(([, key]) => key)
    if (!keys.length && !extra.length) return new Map()
    // Records and histories concurrently, each with its own edge-cache TTL.
    const [records, extras] = await Promise.all([
      keys.length ? this.#bulkText(keys) : { values: new Map<string, string | null>(), reads: 0 },
      extra.length ? this.#bulkText(extra, this.opts.historyCacheTtl ?? this.opts.cacheTtl) : undefined,
    ])
    const values = records.values
    out.reads += records.reads
    if (extras) {
      for (const [k, v] of extras.values) values.set(k, v)
      out.reads += extras.reads
    }
    for (const [name, key] of fromKv) {
      const text = values.get(key)
      if (text == null) continue
      try {
        const d = decode(name, text, this.opts.dim)
        this.#lru?.set(key, d)
        place(out, name, d)
      } catch (e) {
        if (!(e instanceof CorruptEmbedding)) throw e
        out.corrupt.push(key)
      }
    }
    return values
  }

  /**
   * One request's lookups: the query vector, the candidates' item records, and the history's —
   * the history given in the request or, with only a user id, the one stored in KV. Two rounds at
   * most: a stored history's items are known only once it is read.
   */
  async lookup(req: {
    query: string
    ids: string[]
    history?: string[]
    /** The KV key of a user's stored history (functions/shared/kv-keys.ts `historyKey`), to read it. */
    historyKey?: string
    historyLimit: number
  }): Promise<Lookup> {
    const { prefix } = this.opts
    const out: Lookup = {
      items: new Map(),
      query: null,
      history: null,
      corrupt: [],
      historyCorrupt: false,
      reads: 0,
      lruHits: 0,
    }
    const wanted = new Map<string, string>([[QUERY, await queryKeyOf(prefix, req.query)]])
    for (const id of [...req.ids, ...(req.history ?? [])]) wanted.set(id, itemKey(prefix, id))
    const hKey = req.history === undefined ? req.historyKey : undefined
    const values = await this.#round(wanted, hKey ? [hKey] : [], out)
    if (hKey) {
      const text = values.get(hKey) ?? null
      out.history = parseHistory(text)?.slice(0, req.historyLimit) ?? null
      out.historyCorrupt = text !== null && out.history === null
      // Only ids not asked for in the first round: one missing or corrupt is not read (or counted) twice.
      const more = new Map((out.history ?? []).filter((id) => !wanted.has(id)).map((id) => [id, itemKey(prefix, id)]))
      if (more.size) await this.#round(more, [], out)
    }
    return out
  }

  /** The upload marker under this release's prefix (null: nothing uploaded yet). */
  async meta(): Promise<unknown> {
    const { values } = await this.#bulkText([metaKey(this.opts.prefix)])
    const text = values.get(metaKey(this.opts.prefix))
    if (text == null) return null
    try {
      return JSON.parse(text)
    } catch {
      return { corrupt: true }
    }
  }
}

/** A stored history: a JSON list of item ids (null when absent or not that). */
function parseHistory(text: string | null): string[] | null {
  if (text == null) return null
  try {
    const ids: unknown = JSON.parse(text)
    if (Array.isArray(ids) && ids.every((x) => typeof x === 'string' && ITEM_ID.test(x))) return ids
  } catch {
    // not JSON
  }
  return null
}
