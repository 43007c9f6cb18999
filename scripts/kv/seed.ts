/**
 * Writes the committed release into Workers KV, with the shared codec and key layout: the deployed
 * namespace with stock tooling (`wrangler kv bulk put` on files in its bulk JSON format), wrangler's
 * local one through Miniflare's API (scripts/kv/local-kv.ts; the same store `wrangler dev` reads).
 *
 *   npm run kv:seed -- --local            # wrangler's local KV (what `wrangler dev` reads)
 *   npm run kv:seed -- --remote           # the deployed namespace bound as EMBEDDINGS
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SingleBar } from 'cli-progress'
import { allEntries, type KvEntry } from '../../functions/release/kv-entries.ts'
import { readRelease, readReleaseManifest } from '../../functions/release/release.ts'
import { metaKey, userKeyFingerprint, type UserKeySecret } from '../../functions/shared/kv-keys.ts'
import { userKeySecret } from '../dev-vars.ts'
import { bulkParts, runWrangler } from '../wrangler-env.ts'
import { releaseWorld } from '../world/release-world.ts'
import { withLocalKv } from './local-kv.ts'

export const BINDING = 'EMBEDDINGS'
/** Where wrangler keeps local state (what `wrangler dev` reads without --persist-to). */
const LOCAL_STATE = join('.wrangler', 'state')

export interface SeedOptions {
  target: 'local' | 'remote'
  models: string
  world: string
  persistTo?: string
  /** The secret user ids are keyed with; by default the target's (scripts/dev-vars.ts). */
  userKey?: UserKeySecret
  /** The caller never reads a stored history (the demo page sends its shoppers' own): KV holding
   *  this release with its histories keyed under another secret will do, and is not reseeded. */
  anyUserKeys?: boolean
}

function wrangler(args: string[], opts: SeedOptions, capture = false) {
  const where =
    opts.target === 'local' ? ['--local', ...(opts.persistTo ? ['--persist-to', opts.persistTo] : [])] : ['--remote']
  return runWrangler([...args, '--binding', BINDING, ...where], capture ? undefined : ['ignore', 'ignore', 'inherit'])
}

/** Seeds KV unless it already holds this release, its histories keyed with this secret (or any,
 *  with `anyUserKeys`); says whether it uploaded. */
export async function ensureSeeded(opts: SeedOptions): Promise<boolean> {
  const marker = await seededMarker(opts)
  const release = readReleaseManifest(opts.models).version
  // Resolved once: for local KV it may generate the secret and write it into .dev.vars.
  const userKey = opts.userKey ?? userKeySecret(opts.target)
  const keys = await userKeyFingerprint(userKey)
  const held = marker ? (JSON.parse(marker) as { release?: string; user_keys?: string }) : null
  if (held?.release === release && (held.user_keys === keys || opts.anyUserKeys)) {
    console.log(`kv:seed: ${opts.target} KV already holds release ${release}`)
    return false
  }
  await seedKv({ ...opts, userKey })
  return true
}

/** The release's upload marker as KV holds it, or null when the prefix has not been seeded. */
export async function seededMarker(opts: SeedOptions): Promise<string | null> {
  const key = metaKey(readReleaseManifest(opts.models).embedding.kv_prefix)
  if (opts.target === 'local') return withLocalKv(BINDING, opts.persistTo ?? LOCAL_STATE, (kv) => kv.get(key))
  const r = wrangler(['kv', 'key', 'get', key, '--text'], opts, true)
  const out = (r.stdout ?? '').trim()
  return r.status === 0 && out.startsWith('{') ? out : null
}

const progressBar = (total: number, unit: string) => {
  const bar = new SingleBar({ format: `kv:seed [{bar}] {value}/{total} ${unit}  {duration}s, eta {eta}s` })
  bar.start(total, 0)
  return bar
}

/**
 * Uploads `entries`, the upload marker (the last entry) only once every other entry is in, so a
 * partial upload never looks complete. Local KV: through Miniflare, in chunks. Remote: with
 * `wrangler kv bulk put`, in files of ≤ 10,000 pairs under `dir`, the marker in its own last file.
 */
export async function uploadEntries(entries: KvEntry[], dir: string, opts: SeedOptions): Promise<void> {
  if (opts.target === 'local') {
    const bar = progressBar(entries.length, 'entries')
    try {
      await withLocalKv(BINDING, opts.persistTo ?? LOCAL_STATE, async (kv) => {
        await kv.putAll(entries.slice(0, -1), (done) => bar.update(done))
        await kv.putAll(entries.slice(-1))
        bar.update(entries.length)
      })
    } finally {
      bar.stop()
    }
    return
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const parts = bulkParts(entries).map((part) => JSON.stringify(part))
  const bar = progressBar(parts.length, 'files')
  try {
    for (const [i, text] of parts.entries()) {
      const file = join(dir, `part-${String(i).padStart(3, '0')}.json`)
      writeFileSync(file, text)
      const r = wrangler(['kv', 'bulk', 'put', file], opts)
      if (r.status !== 0) throw new Error(`wrangler kv bulk put ${file} failed (exit ${r.status})`)
      bar.increment()
    }
  } finally {
    bar.stop()
  }
}

export async function seedKv(opts: SeedOptions): Promise<void> {
  const started = performance.now()
  const release = readRelease(opts.models)
  const entries = await allEntries(
    release,
    releaseWorld(release, opts.world),
    opts.userKey ?? userKeySecret(opts.target),
  )
  console.log(
    `kv:seed: ${entries.length} entries (release ${release.manifest.version}, prefix ${release.manifest.embedding.kv_prefix}, SYNTHETIC world) → ${opts.target} KV`,
  )
  await uploadEntries(entries, join('.wrangler', 'kv-seed', release.manifest.embedding.version), opts)
  console.log(`kv:seed: done in ${((performance.now() - started) / 1000).toFixed(1)}s`)
}
