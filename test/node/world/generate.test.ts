import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { presetConfig } from '../../../scripts/world/config.ts'
import { generateWorld } from '../../../scripts/world/generate.ts'
import { loadWorld, readWorldManifest, saveWorld } from '../../../scripts/world/store.ts'
import { npmRun, smokeWorld, tempDir } from './fixture.ts'

const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  )

describe('world generator', () => {
  it('same seed → byte-identical output, through the CLI and the library alike', () => {
    const a = tempDir('world-a')
    const b = tempDir('world-b')
    const out = npmRun('world', ['--preset', 'smoke', '--seed', '7', '--out', a, '--quiet'])
    expect(out).toMatch(/2000 items .* 3000 sessions/)
    saveWorld(generateWorld(presetConfig('smoke'), 7), b)
    const fa = filesOf(a)
    const fb = filesOf(b)
    expect(Object.keys(fa)).toEqual(Object.keys(fb))
    for (const name of Object.keys(fa)) expect(fa[name].equals(fb[name]), `${name} differs`).toBe(true)
  })

  it('another seed → different data and a different content hash', () => {
    const a = saveWorld(smokeWorld(1), tempDir('seed1'))
    const b = saveWorld(smokeWorld(2), tempDir('seed2'))
    expect(a.content_hash).not.toBe(b.content_hash)
    for (const key of ['item_text_emb', 'cand_click', 'user_history'])
      expect(a.files[key].sha256, key).not.toBe(b.files[key].sha256)
  })

  it('writes a manifest whose counts, shapes and hashes describe the files', () => {
    const dir = tempDir('manifest')
    const world = smokeWorld(1)
    saveWorld(world, dir)
    const m = readWorldManifest(dir)
    expect(m.synthetic).toBe(true)
    expect(m.seed).toBe(1)
    expect(m.counts).toMatchObject({ items: 2000, users: 200, sessions: 3000, candidates: world.candidates.count })
    expect(m.counts.splits.train + m.counts.splits.valid + m.counts.splits.test).toBe(3000)
    for (const entry of Object.values(m.files)) {
      const bytes = readFileSync(join(dir, entry.file))
      expect(createHash('sha256').update(bytes).digest('hex'), entry.file).toBe(entry.sha256)
      expect(entry.description.length).toBeGreaterThan(10)
    }
    const back = loadWorld(dir, { verify: true })
    expect(back.candidates.count).toBe(world.candidates.count)
    expect(Array.from(back.candidates.pClick.subarray(0, 50))).toEqual(
      Array.from(world.candidates.pClick.subarray(0, 50)),
    )
    expect(back.items.meta[5]).toEqual(world.items.meta[5])
    expect(Array.from(back.items.priceZ.subarray(0, 20))).toEqual(Array.from(world.items.priceZ.subarray(0, 20)))
  })

  it('detects a corrupted file when verifying', () => {
    const dir = tempDir('corrupt')
    saveWorld(smokeWorld(1), dir)
    const file = join(dir, 'cand_click.npy')
    const bytes = readFileSync(file)
    bytes[bytes.length - 1] ^= 1
    writeFileSync(file, bytes)
    expect(() => loadWorld(dir, { verify: true })).toThrow(/cand_click\.npy: sha256 does not match/)
  })

  it('meets the default preset size floor', () => {
    const c = presetConfig('default')
    expect(c.items).toBeGreaterThanOrEqual(20_000)
    expect(c.users).toBeGreaterThanOrEqual(2_000)
    expect(c.sessions).toBeGreaterThanOrEqual(100_000)
    expect(c.categories).toBeGreaterThanOrEqual(20)
    expect(Math.min(...c.listLengths)).toBe(20)
    expect(Math.max(...c.listLengths)).toBe(100)
  })
})
