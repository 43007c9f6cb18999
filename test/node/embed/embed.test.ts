import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeItemRecord, dequantize } from '../../../functions/shared/embedding-codec.ts'
import { itemKey } from '../../../functions/shared/kv-keys.ts'
import { CatalogError } from '../../../scripts/embed/catalog.ts'
import { embedCatalog } from '../../../scripts/embed/embed.ts'
import { writeWorldCatalog } from '../../../scripts/embed/world-catalog.ts'
import { itemEntry } from '../../../functions/release/kv-entries.ts'
import { readNpy, writeNpy } from '../../../functions/release/npy.ts'
import { readRelease } from '../../../functions/release/release.ts'
import { releaseWorld } from '../../../scripts/world/release-world.ts'
import { tempDir } from '../world/fixture.ts'

// `npm run embed` on the SYNTHETIC world's catalog (the first 300 items, 40 queries) with the
// release's real towers on onnxruntime-node.
const release = readRelease('models')
const prefix = release.manifest.embedding.kv_prefix
const dim = release.manifest.embedding.dim

function catalog(): string {
  const dir = join(tempDir('embed'), 'catalog')
  writeWorldCatalog('data/worlds/default', dir, { items: 300, queries: 40 })
  return dir
}

/** Every put file's pairs, in upload order. */
const puts = (out: string) =>
  readdirSync(out)
    .filter((f) => f.startsWith('put-'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { key: string; value: string }[])

async function refusal(edit: (dir: string) => void): Promise<string> {
  const dir = catalog()
  edit(dir)
  const out = join(dir, '..', 'out')
  const e = await embedCatalog({ catalog: dir, out }).then(
    () => new Error('embedded'),
    (e: unknown) => e,
  )
  expect(e).toBeInstanceOf(CatalogError)
  expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false)
  return (e as Error).message
}

const editLine = (dir: string, line: number, f: (item: Record<string, unknown>) => Record<string, unknown>) => {
  const file = join(dir, 'items.jsonl')
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  lines[line - 1] = JSON.stringify(f(JSON.parse(lines[line - 1])))
  writeFileSync(file, lines.join('\n') + '\n')
}

describe('npm run embed', () => {
  it("writes the release's own records for the synthetic world (the towers reproduce the committed vectors)", async () => {
    const dir = catalog()
    const out = join(dir, '..', 'out')
    const summary = await embedCatalog({ catalog: dir, out, batch: 64 })
    expect(summary).toMatchObject({ items: 300, queries: 40, put: 340, deleted: 0 })
    const records = new Map(puts(out).map((p) => [p.key, p.value]))
    expect(JSON.parse(puts(out).at(-1)!.value)).toMatchObject({ release: release.manifest.version, synthetic: false })
    const world = releaseWorld(release, 'data/worlds/default')
    for (let i = 0; i < 300; i++) {
      const committed = decodeItemRecord(itemEntry(release, world, i).value, dim)
      const ours = decodeItemRecord(records.get(itemKey(prefix, world.items.meta[i].id))!, dim)
      expect(ours.price).toBe(committed.price)
      const [a, b] = [dequantize(ours.vector), dequantize(committed.vector)]
      for (let k = 0; k < dim; k++) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(1.01 * committed.vector.scale)
    }
  })

  it('re-embedding writes only what changed, and the removed items to delete', async () => {
    const dir = catalog()
    const first = join(dir, '..', 'first')
    await embedCatalog({ catalog: dir, out: first })
    editLine(dir, 2, (item) => ({ ...item, price: 999 }))
    // Drop the last item (its line and its vector rows).
    const lines = readFileSync(join(dir, 'items.jsonl'), 'utf8').trim().split('\n')
    const gone = JSON.parse(lines.pop()!).id as string
    writeFileSync(join(dir, 'items.jsonl'), lines.join('\n') + '\n')
    for (const f of ['text.npy', 'image.npy']) {
      const a = readNpy(join(dir, f))
      writeNpy(join(dir, f), (a.data as Float32Array).slice(0, 299 * a.shape[1]), [299, a.shape[1]])
    }
    const second = join(dir, '..', 'second')
    const s = await embedCatalog({ catalog: dir, out: second, previous: first })
    expect(s).toMatchObject({ put: 1, deleted: 1, unchanged: 338 })
    const changed = puts(second)
    expect(changed).toHaveLength(2) // the repriced item, then the marker
    expect(decodeItemRecord(changed[0].value, dim).price).toBe(999)
    expect(JSON.parse(readFileSync(join(second, 'delete.json'), 'utf8'))).toEqual([itemKey(prefix, gone)])
  })

  it('puts the upload marker alone in the last put file', async () => {
    const dir = catalog()
    const out = join(dir, '..', 'out')
    const { files } = await embedCatalog({ catalog: dir, out })
    const last = JSON.parse(readFileSync(join(out, files.at(-1)!), 'utf8')) as { key: string }[]
    expect(files).toEqual(['put-0000.json', 'put-0001.json'])
    expect(last.map((p) => p.key)).toEqual([`${prefix}meta`])
  })

  it("deletes nothing against an output under another release's prefix (the live worker reads it)", async () => {
    const dir = catalog()
    const first = join(dir, '..', 'first')
    await embedCatalog({ catalog: dir, out: first })
    const stateFile = join(first, 'state.json')
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { prefix: string; records: Record<string, string> }
    const old = 'emb/000000000000/'
    const records = Object.fromEntries(Object.entries(state.records).map(([k, v]) => [k.replace(prefix, old), v]))
    writeFileSync(stateFile, JSON.stringify({ ...state, prefix: old, records }))
    const s = await embedCatalog({ catalog: dir, out: join(dir, '..', 'second'), previous: first })
    expect(s).toMatchObject({ put: 340, deleted: 0, unchanged: 0 })
  })

  it('refuses a --previous that is not an output of embed, before embedding anything', async () => {
    const dir = catalog()
    const e = await embedCatalog({ catalog: dir, out: join(dir, '..', 'out'), previous: dir }).catch((e: unknown) => e)
    expect(e).toBeInstanceOf(CatalogError)
    expect((e as Error).message).toMatch(/--previous .*: no state\.json/)
  })

  it('refuses an item without an id, naming the line', async () => {
    expect(await refusal((d) => editLine(d, 3, ({ id: _, ...rest }) => rest))).toMatch(/items\.jsonl:3: no "id"/)
  })

  it('refuses a duplicate id, naming both lines', async () => {
    const msg = await refusal((d) => editLine(d, 5, (item) => ({ ...item, id: 'i000000' })))
    expect(msg).toMatch(/items\.jsonl:5: duplicate id "i000000" \(first on line 1\)/)
  })

  it('refuses a price that is not positive', async () => {
    expect(await refusal((d) => editLine(d, 7, (item) => ({ ...item, price: 0 })))).toMatch(/items\.jsonl:7: price 0/)
  })

  it('refuses vectors of the wrong width', async () => {
    const msg = await refusal((d) => writeNpy(join(d, 'text.npy'), new Float32Array(300 * 64), [300, 64]))
    expect(msg).toMatch(/text\.npy: shape \[300,64\], expected \[300, 128\]/)
  })

  it("refuses float64 vectors (numpy's default), saying how to convert them", async () => {
    const msg = await refusal((d) => {
      const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (300, 128), }"
      const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n'
      const len = Buffer.alloc(2)
      len.writeUInt16LE(padded.length)
      const data = Buffer.from(new Float64Array(300 * 128).buffer)
      writeFileSync(
        join(d, 'text.npy'),
        Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), len, Buffer.from(padded, 'latin1'), data]),
      )
    })
    expect(msg).toMatch(/text\.npy: .*<f8.*astype\(np\.float32\)/)
  })

  it('refuses a NaN, naming the item', async () => {
    const msg = await refusal((d) => {
      const a = readNpy(join(d, 'image.npy'))
      ;(a.data as Float32Array)[10 * 128 + 5] = NaN
      writeNpy(join(d, 'image.npy'), a.data as Float32Array, a.shape)
    })
    expect(msg).toMatch(/image\.npy: row 10 \(.*items\.jsonl:11, id i000010\) holds NaN/)
  })
})
