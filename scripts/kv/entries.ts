/**
 * What goes into KV, built from the committed release (models/manifest.json, models/embeddings)
 * and the synthetic world (queries' text, users' histories), with the shared codec and key layout.
 * kv:seed uploads all of it; the test fixtures carry the slice their requests need.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  encodeQueryRecord,
  encodeItemRecord,
  EMBEDDING_CODEC,
  type Quantized,
} from '../../functions/shared/embedding-codec.ts'
import {
  historyKey,
  itemKey,
  metaKey,
  queryKey,
  userKeyFingerprint,
  type UserKeySecret,
} from '../../functions/shared/kv-keys.ts'
import type { Manifest } from '../../functions/shared/manifest.ts'
import { readNpy } from '../world/npy.ts'
import { KV_BULK_PAIRS } from '../wrangler-env.ts'
import { ensureWorld } from '../world/ensure.ts'
import { loadWorld, readManifest as readWorldManifest } from '../world/store.ts'
import type { World } from '../world/world.ts'

/** One entry of `wrangler kv bulk put`'s JSON array. */
export interface KvEntry {
  key: string
  value: string
}

/**
 * `entries` (the upload marker last) as `wrangler kv bulk put` files' contents: the records in files
 * of at most `KV_BULK_PAIRS`, then the marker in a file of its own, so no partial upload looks complete.
 */
export function bulkParts(entries: KvEntry[]): KvEntry[][] {
  const body = entries.slice(0, -1)
  const parts: KvEntry[][] = []
  for (let i = 0; i < body.length; i += KV_BULK_PAIRS) parts.push(body.slice(i, i + KV_BULK_PAIRS))
  parts.push(entries.slice(-1))
  return parts
}

export interface QuantizedTable {
  rows: number
  dim: number
  q: Int8Array
  scale: Float32Array
}

export function readManifest(modelsDir: string): Manifest {
  return JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as Manifest
}

/** A committed int8 table (`<base>.int8.npy` [rows, dim] + `<base>.scale.npy` [rows]). */
export function readQuantized(modelsDir: string, base: string): QuantizedTable {
  const q = readNpy(join(modelsDir, `${base}.int8.npy`))
  const scale = readNpy(join(modelsDir, `${base}.scale.npy`))
  if (q.dtype !== 'int8' || scale.dtype !== 'float32' || q.shape.length !== 2 || scale.shape[0] !== q.shape[0])
    throw new Error(
      `${base}: expected int8 [rows, dim] and float32 [rows], got ${q.dtype} [${q.shape}] and ${scale.dtype} [${scale.shape}]`,
    )
  return { rows: q.shape[0], dim: q.shape[1], q: q.data as Int8Array, scale: scale.data as Float32Array }
}

export function tableRow(t: QuantizedTable, row: number): Quantized {
  return { q: t.q.subarray(row * t.dim, (row + 1) * t.dim), scale: t.scale[row] }
}

export interface Release {
  manifest: Manifest
  items: QuantizedTable
  queries: QuantizedTable
}

export function readRelease(modelsDir: string): Release {
  const manifest = readManifest(modelsDir)
  if (manifest.embedding.quantization.codec !== EMBEDDING_CODEC)
    throw new Error(`manifest codec ${manifest.embedding.quantization.codec}; this code writes ${EMBEDDING_CODEC}`)
  const items = readQuantized(modelsDir, manifest.embedding.files.items)
  const queries = readQuantized(modelsDir, manifest.embedding.files.queries)
  for (const t of [items, queries])
    if (t.dim !== manifest.embedding.dim)
      throw new Error(`embedding width ${t.dim}, manifest says ${manifest.embedding.dim}`)
  return { manifest, items, queries }
}

/**
 * The world the release was trained on, generated into `dir` if missing, and loaded: item records
 * pair the release's vectors with this world's catalog prices, so any other world (even one with
 * the same counts) is refused.
 */
export function releaseWorld(r: Release, dir: string): World {
  const named = r.manifest.synthetic_world
  if (!named) throw new Error(`release ${r.manifest.version} names no world`)
  ensureWorld(named.preset, named.seed, dir)
  const have = readWorldManifest(dir).content_hash
  if (named.content_hash !== have)
    throw new Error(
      `the world in ${dir} (content ${have.slice(0, 12)}) is not the one release ${r.manifest.version} was trained on (${named.content_hash.slice(0, 12)})`,
    )
  return loadWorld(dir)
}

/** A user's history as item ids, newest first. */
export function userHistory(world: World, user: number): string[] {
  const max = world.users.history.length / world.users.count
  const ids: string[] = []
  for (let j = 0; j < max; j++) {
    const item = world.users.history[user * max + j]
    if (item >= 0) ids.push(world.items.meta[item].id)
  }
  return ids
}

/** An item's record: its fused vector from the release and its catalog price from the world. */
export const itemEntry = (r: Release, world: World, item: number): KvEntry => ({
  key: itemKey(r.manifest.embedding.kv_prefix, world.items.meta[item].id),
  value: encodeItemRecord({ vector: tableRow(r.items, item), price: world.items.price[item] }),
})

export const queryEntry = async (r: Release, world: World, query: number): Promise<KvEntry> => ({
  key: await queryKey(r.manifest.embedding.kv_prefix, world.queries.meta[query].text),
  value: encodeQueryRecord(tableRow(r.queries, query)),
})

export const historyEntry = async (world: World, user: number, userKey: UserKeySecret): Promise<KvEntry> => ({
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
export async function allEntries(r: Release, world: World, userKey: UserKeySecret): Promise<KvEntry[]> {
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
