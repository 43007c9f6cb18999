/**
 * The SYNTHETIC world as a catalog in `npm run embed`'s format (docs/catalog.md): its items
 * (id, price and the product-page facts), their text and image vectors, its queries and theirs.
 *   npx tsx scripts/embed/world-catalog.ts --out DIR [--world data/worlds/default] [--items N] [--queries N]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { readNpy, writeNpy } from '../world/npy.ts'

export function writeWorldCatalog(world: string, out: string, limits: { items?: number; queries?: number } = {}) {
  mkdirSync(out, { recursive: true })
  const lines = (file: string, n?: number) => readFileSync(join(world, file), 'utf8').trim().split('\n').slice(0, n)
  const items = lines('items.jsonl', limits.items)
  const queries = lines('queries.jsonl', limits.queries)
  writeFileSync(join(out, 'items.jsonl'), items.join('\n') + '\n')
  writeFileSync(
    join(out, 'queries.jsonl'),
    queries.map((l) => JSON.stringify({ text: (JSON.parse(l) as { text: string }).text })).join('\n') + '\n',
  )
  const rows = (file: string, n: number, to: string) => {
    const a = readNpy(join(world, file))
    const w = a.shape[1]
    writeNpy(join(out, to), (a.data as Float32Array).slice(0, n * w), [n, w])
  }
  rows('item_text_emb.npy', items.length, 'text.npy')
  rows('item_image_emb.npy', items.length, 'image.npy')
  rows('query_emb.npy', queries.length, 'query.npy')
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
