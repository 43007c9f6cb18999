import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeEmbedding, decodeItemRecord } from '../../functions/shared/embedding-codec.ts'
import { metaKey } from '../../functions/shared/kv-keys.ts'
import { readManifest, type KvEntry } from '../../scripts/kv/entries.ts'
import { seededMarker, uploadEntries, type SeedOptions } from '../../scripts/kv/seed.ts'

// kv:seed's upload path with stock tooling: real `wrangler kv bulk put --local` into a scratch
// persistence directory, read back with `wrangler kv key get`.
describe('kv:seed uploads with wrangler kv bulk put', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kv-seed-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))
  const opts: SeedOptions = { target: 'local', models: 'models', world: 'unused', persistTo: join(scratch, 'state') }
  const entries = JSON.parse(readFileSync('test/fixtures/kv.json', 'utf8')) as KvEntry[]

  it('reports an empty namespace as not seeded, then finds the marker the upload wrote last', () => {
    expect(seededMarker(opts)).toBeNull()
    uploadEntries(entries, join(scratch, 'files'), opts)
    const manifest = readManifest('models')
    const marker = JSON.parse(seededMarker(opts)!)
    expect(marker).toMatchObject({ release: manifest.version, embedding: manifest.embedding.version, synthetic: true })
    expect(entries.at(-1)!.key).toBe(metaKey(manifest.embedding.kv_prefix))
  }, 120_000)
})

it('every record in the fixture KV slice decodes with the shared codec at the manifest width', () => {
  const entries = JSON.parse(readFileSync('test/fixtures/kv.json', 'utf8')) as KvEntry[]
  const { embedding } = readManifest('models')
  const items = entries.filter((e) => e.key.startsWith(`${embedding.kv_prefix}i/`))
  const queries = entries.filter((e) => e.key.startsWith(`${embedding.kv_prefix}q/`))
  expect(items.length).toBeGreaterThan(100)
  expect(queries.length).toBeGreaterThan(0)
  for (const e of items) {
    const { vector, price } = decodeItemRecord(e.value, embedding.dim)
    expect(vector.q.length).toBe(embedding.dim)
    expect(price).toBeGreaterThan(0)
  }
  for (const e of queries) expect(decodeEmbedding(e.value, embedding.dim).q.length).toBe(embedding.dim)
})
