import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeQueryRecord, decodeItemRecord } from '../../../functions/shared/embedding-codec.ts'
import { metaKey } from '../../../functions/shared/kv-keys.ts'
import type { KvEntry } from '../../../functions/release/kv-entries.ts'
import { readRelease, readReleaseManifest } from '../../../functions/release/release.ts'
import { releaseWorld } from '../../../scripts/world/release-world.ts'
import { saveWorld } from '../../../scripts/world/store.ts'
import { smokeWorld, tempDir } from '../world/fixture.ts'
import { BINDING, ensureSeeded, seededMarker, uploadEntries, type SeedOptions } from '../../../scripts/kv/seed.ts'

// kv:seed's local upload path (Miniflare's API into wrangler's local store), read back by stock
// tooling: `wrangler kv key get --local`, as `wrangler dev` reads it.
describe('kv:seed --local', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kv-seed-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))
  const opts: SeedOptions = { target: 'local', models: 'models', world: 'unused', persistTo: join(scratch, 'state') }
  const entries = JSON.parse(readFileSync('test/fixtures/kv.json', 'utf8')) as KvEntry[]

  it('reports an empty namespace as not seeded, then finds the marker the upload wrote last', async () => {
    expect(await seededMarker(opts)).toBeNull()
    await uploadEntries(entries, join(scratch, 'files'), opts)
    const manifest = readReleaseManifest('models')
    const marker = JSON.parse((await seededMarker(opts))!)
    expect(marker).toMatchObject({ release: manifest.version, embedding: manifest.embedding.version, synthetic: true })
    expect(entries.at(-1)!.key).toBe(metaKey(manifest.embedding.kv_prefix))
  }, 900_000)

  it('holding the release, it is not reseeded for a caller that reads no stored history, whatever keyed those', async () => {
    const marker = await seededMarker(opts)
    const userKey = { secret: 'not-the-secret-the-marker-names', version: 'v1' }
    expect(await ensureSeeded({ ...opts, userKey, anyUserKeys: true })).toBe(false)
    expect(await seededMarker(opts)).toBe(marker)
  })

  it('writes where wrangler reads: `wrangler kv key get --local` finds a record', () => {
    const { key, value } = entries[7]
    const r = spawnSync(
      'npx',
      ['wrangler', 'kv', 'key', 'get', key, '--text', '--binding', BINDING, '--local', '--persist-to', opts.persistTo!],
      { encoding: 'utf8' },
    )
    expect(r.stdout.trim()).toBe(value)
  }, 900_000) // a wrangler process; the limit only guards a hang
})

it('every record in the fixture KV slice decodes with the shared codec at the manifest width', () => {
  const entries = JSON.parse(readFileSync('test/fixtures/kv.json', 'utf8')) as KvEntry[]
  const { embedding } = readReleaseManifest('models')
  const items = entries.filter((e) => e.key.startsWith(`${embedding.kv_prefix}i/`))
  const queries = entries.filter((e) => e.key.startsWith(`${embedding.kv_prefix}q/`))
  expect(items.length).toBeGreaterThan(100)
  expect(queries.length).toBeGreaterThan(0)
  // Decoding checks the length, the scale and the price (finite, > 0).
  for (const e of items) expect(decodeItemRecord(e.value, embedding.dim).vector.q.length).toBe(embedding.dim)
  for (const e of queries) expect(decodeQueryRecord(e.value, embedding.dim).q.length).toBe(embedding.dim)
})

it('refuses to pair the release with a world it was not trained on (prices would be wrong)', () => {
  const dir = tempDir('other-world')
  try {
    // A world under the release's (preset, seed), so it is reused rather than regenerated, but
    // with other content.
    saveWorld(smokeWorld(1), dir)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, preset: 'default' }))
    expect(() => releaseWorld(readRelease('models'), dir)).toThrow(/is not the one release rr-\w+ was trained on/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
