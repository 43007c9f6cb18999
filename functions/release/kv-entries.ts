/**
 * The KV records of a release (models/manifest.json, models/embeddings) over the world it was
 * trained on (items' ids and prices, queries' text, users' histories), with the shared codec and
 * key layout. kv:seed uploads all of them; the test fixtures carry the slice their requests need.
 */
import { encodeQueryRecord, encodeItemRecord } from '../shared/embedding-codec.ts'
import { historyKey, itemKey, metaKey, queryKey, userKeyFingerprint, type UserKeySecret } from '../shared/kv-keys.ts'
import { tableRow } from './quantized.ts'
import type { Release } from './release.ts'

/** One record: a key and its value, as `wrangler kv bulk put`'s JSON array holds them. */
export interface KvEntry {
  key: string
  value: string
}

/**
 * What the records read of a world, row for row with the release's tables: item ids and catalog
 * prices, query texts, users' ids and histories (item rows, newest first, -1 padding). The
 * synthetic world (scripts/world/world.ts `World`) is one.
 */
export interface RecordsWorld {
  items: { count: number; meta: { id: string }[]; price: Float32Array }
  queries: { count: number; meta: { text: string }[] }
  users: { count: number; meta: { id: string }[]; history: Int32Array }
}

/** A user's history as item ids, newest first. */
export function userHistory(world: RecordsWorld, user: number): string[] {
  const max = world.users.history.length / world.users.count
  const ids: string[] = []
  for (let j = 0; j < max; j++) {
    const item = world.users.history[user * max + j]
    if (item >= 0) ids.push(world.items.meta[item].id)
  }
  return ids
}

/** An item's record: its fused vector from the release and its catalog price from the world. */
export const itemEntry = (r: Release, world: RecordsWorld, item: number): KvEntry => ({
  key: itemKey(r.manifest.embedding.kv_prefix, world.items.meta[item].id),
  value: encodeItemRecord({ vector: tableRow(r.items, item), price: world.items.price[item] }),
})

export const queryEntry = async (r: Release, world: RecordsWorld, query: number): Promise<KvEntry> => ({
  key: await queryKey(r.manifest.embedding.kv_prefix, world.queries.meta[query].text),
  value: encodeQueryRecord(tableRow(r.queries, query)),
})

export const historyEntry = async (world: RecordsWorld, user: number, userKey: UserKeySecret): Promise<KvEntry> => ({
  key: await historyKey(userKey, world.users.meta[user].id),
  value: JSON.stringify(userHistory(world, user)),
})

/** The upload marker, written last: its presence means the prefix is complete. It names the
 *  user-key secret the histories were keyed with (by fingerprint), so a changed secret re-seeds.
 *  `extra` says more about the upload (`npm run embed`: not synthetic, and its catalog's digest). */
export function metaEntry(
  r: Pick<Release, 'manifest'>,
  counts: Record<string, number>,
  userKeys?: string,
  extra: Record<string, unknown> = { synthetic: true },
): KvEntry {
  const { manifest } = r
  return {
    key: metaKey(manifest.embedding.kv_prefix),
    value: JSON.stringify({
      release: manifest.version,
      embedding: manifest.embedding.version,
      codec: manifest.embedding.quantization.codec,
      ...extra,
      counts,
      ...(userKeys ? { user_keys: userKeys } : {}),
    }),
  }
}

/** Every entry of the release, meta last. Queries sharing a text share a key (the first wins). */
export async function allEntries(r: Release, world: RecordsWorld, userKey: UserKeySecret): Promise<KvEntry[]> {
  if (r.items.rows !== world.items.count || r.queries.rows !== world.queries.count)
    throw new Error(
      `the release's embeddings (${r.items.rows} items, ${r.queries.rows} queries) do not match the world (${world.items.count}, ${world.queries.count})`,
    )
  const entries: KvEntry[] = []
  for (let i = 0; i < world.items.count; i++) entries.push(itemEntry(r, world, i))
  const seen = new Set<string>()
  let queries = 0
  for (let i = 0; i < world.queries.count; i++) {
    const e = await queryEntry(r, world, i)
    if (!seen.has(e.key)) (seen.add(e.key), entries.push(e), queries++)
  }
  for (let u = 0; u < world.users.count; u++) entries.push(await historyEntry(world, u, userKey))
  const counts = { items: world.items.count, queries, users: world.users.count }
  entries.push(metaEntry(r, counts, await userKeyFingerprint(userKey)))
  return entries
}
