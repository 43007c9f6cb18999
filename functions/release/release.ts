/**
 * Reading a release from its directory (`models/`): its manifest (`manifest.json`, the contract in
 * functions/release/manifest.ts), its embedding tables, and the one check that a world is the one
 * the release was trained on.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EMBEDDING_CODEC } from '../shared/embedding-codec.ts'
import type { Manifest } from './manifest.ts'
import { readQuantized, type QuantizedTable } from './quantized.ts'

/**
 * The release's manifest, `<modelsDir>/manifest.json` (not a world's manifest: those describe a
 * generated world, scripts/world/store.ts `readWorldManifest`).
 */
export function readReleaseManifest(modelsDir: string): Manifest {
  return JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')) as Manifest
}

/** A release's manifest and its quantized item and query embeddings. */
export interface Release {
  manifest: Manifest
  items: QuantizedTable
  queries: QuantizedTable
}

/**
 * The release in `modelsDir`, its tables checked against the manifest's codec and width.
 *
 * @example
 * const { manifest, items } = readRelease('models')
 */
export function readRelease(modelsDir: string): Release {
  const manifest = readReleaseManifest(modelsDir)
  if (manifest.embedding.quantization.codec !== EMBEDDING_CODEC)
    throw new Error(`manifest codec ${manifest.embedding.quantization.codec}; this code writes ${EMBEDDING_CODEC}`)
  const items = readQuantized(modelsDir, manifest.embedding.files.items)
  const queries = readQuantized(modelsDir, manifest.embedding.files.queries)
  for (const t of [items, queries])
    if (t.dim !== manifest.embedding.dim)
      throw new Error(`embedding width ${t.dim}, manifest says ${manifest.embedding.dim}`)
  return { manifest, items, queries }
}

/** The world a release names (manifest `synthetic_world`): how to make it, and its content. */
export type NamedWorld = NonNullable<Manifest['synthetic_world']>

/**
 * Puts the world `named` into `dir` when it is not there yet, and returns the content hash of the
 * world that is there now (scripts/world/ensure.ts `provideWorld` generates the synthetic one).
 */
export type ProvideWorld = (named: NamedWorld, dir: string) => string

/**
 * The one release↔world check: the world in `dir` (provided first) must be the one the release
 * was trained on, by content hash. Records pair the release's vectors with the world's prices
 * and ids, so any other world, even one with the same counts, is refused.
 *
 * @example
 * checkReleaseWorld(manifest, 'data/worlds/default', provideWorld)
 * const world = loadWorld('data/worlds/default')
 */
export function checkReleaseWorld(manifest: Manifest, dir: string, provide: ProvideWorld): void {
  const named = manifest.synthetic_world
  if (!named) throw new Error(`release ${manifest.version} names no world (manifest synthetic_world)`)
  const have = provide(named, dir)
  if (have !== named.content_hash)
    throw new Error(
      `the world in ${dir} (content ${have.slice(0, 12)}) is not the one release ${manifest.version} was trained on (${named.content_hash.slice(0, 12)})`,
    )
}
