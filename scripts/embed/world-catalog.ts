/**
 * The SYNTHETIC world as a catalog in `npm run embed`'s format (docs/catalog.md): its items
 * (id, price and the product-page facts), their text and image vectors, its queries and theirs.
 *   npx tsx scripts/embed/world-catalog.ts --out DIR [--world data/worlds/default] [--items N] [--queries N]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { writeNpy } from '../../functions/release/npy.ts'
import { loadCatalog } from '../world/store.ts'
import type { Catalog } from './catalog.ts'

/** The world's catalog as embed reads it, in memory: what a model may read of it (`loadCatalog`). */
export function worldCatalog(world: string): Catalog {
  const { arrays } = loadCatalog(world)
  return {
    ids: arrays.ids,
    prices: arrays.price,
    text: arrays.text,
    image: arrays.image,
    queries: arrays.queries.texts,
    query: arrays.queries.vectors,
  }
}

export function writeWorldCatalog(world: string, out: string, limits: { items?: number; queries?: number } = {}) {
  mkdirSync(out, { recursive: true })
  const c = worldCatalog(world)
  const items = readFileSync(join(world, 'items.jsonl'), 'utf8').trim().split('\n').slice(0, limits.items)
  const queries = c.queries.slice(0, limits.queries)
  writeFileSync(join(out, 'items.jsonl'), items.join('\n') + '\n')
  writeFileSync(join(out, 'queries.jsonl'), queries.map((text) => JSON.stringify({ text })).join('\n') + '\n')
  const rows = (data: Float32Array, total: number, n: number, to: string) => {
    const w = data.length / total
    writeNpy(join(out, to), data.slice(0, n * w), [n, w])
  }
  rows(c.text, c.ids.length, items.length, 'text.npy')
  rows(c.image, c.ids.length, items.length, 'image.npy')
  rows(c.query, c.queries.length, queries.length, 'query.npy')
  return { items: items.length, queries: queries.length }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command('world-catalog')
    .requiredOption('--out <dir>', 'the catalog directory to write')
    .option('--world <dir>', 'the world', 'data/worlds/default')
    .option('--items <n>', 'only the first N items', (v) => Number(v))
    .option('--queries <n>', 'only the first N queries', (v) => Number(v))
    .parse()
    .opts<{ out: string; world: string; items?: number; queries?: number }>()
  const n = writeWorldCatalog(opts.world, opts.out, opts)
  console.log(`world-catalog: ${n.items} items, ${n.queries} queries (SYNTHETIC) → ${opts.out}`)
}
