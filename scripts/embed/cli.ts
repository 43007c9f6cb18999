/**
 * `npm run embed -- --catalog DIR --out DIR [--previous DIR]`: your catalog into the KV records the
 * edge reads (docs/catalog.md). Upload what it writes with
 *   for f in OUT/put-*.json; do npx wrangler kv bulk put "$f" --binding EMBEDDINGS --remote; done
 *   npx wrangler kv bulk delete OUT/delete.json --binding EMBEDDINGS --remote   (when there is one)
 * put files first, in order: the last one holds only the marker that says the upload is complete.
 */
import { SingleBar } from 'cli-progress'
import { Command } from 'commander'
import { positiveInteger } from '../cli-options.ts'
import { CatalogError } from './catalog.ts'
import { embedCatalog } from './embed.ts'

const opts = new Command('embed')
  .description("Embed a catalog with the release's towers into wrangler kv bulk files.")
  .requiredOption('--catalog <dir>', 'items.jsonl, text.npy, image.npy [, queries.jsonl, query.npy]')
  .requiredOption('--out <dir>', 'where the bulk files go (replaced when complete)')
  .option('--previous <dir>', 'an earlier --out: write only what changed, and delete.json for removed keys')
  .option('--models <dir>', 'the release', 'models')
  .option('--batch <n>', 'rows per tower call', positiveInteger, 512)
  .parse()
  .opts<{ catalog: string; out: string; previous?: string; models: string; batch: number }>()

const bar = new SingleBar({ format: 'embed [{bar}] {value}/{total} rows  {duration}s, eta {eta}s' })
let started = false
try {
  const s = await embedCatalog({
    ...opts,
    progress: (done, total) => (started ? bar.update(done) : (bar.start(total, done), (started = true))),
  })
  bar.stop()
  console.log(
    `embed: ${s.items} items, ${s.queries} queries in ${s.seconds.toFixed(1)} s (${(s.items / s.seconds).toFixed(0)} items/s); ` +
      `${s.put} records to put, ${s.deleted} to delete, ${s.unchanged} unchanged → ${opts.out}/ (${s.files.join(', ')})`,
  )
} catch (e) {
  bar.stop()
  // Output goes to OUT.partial and is renamed only at the end, so a failure leaves OUT as it was.
  if (e instanceof CatalogError) console.error(`embed: ${e.message}\nnothing was written.`)
  else
    console.error(
      `embed: unexpected error (a bug: please report it)\n${e instanceof Error ? e.stack : String(e)}\nnothing was written.`,
    )
  process.exit(1)
}
