/**
 * `npm run logs:build -- --log DIR --catalog DIR --out DIR`: an event log and a catalog into training
 * arrays (docs/data.md). `--log` is what `logs:pull` wrote (or `npm run world:log`'s `log/`);
 * `--catalog` is `npm run embed`'s input format, checked against the release's tower widths.
 */
import { Command } from 'commander'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { CatalogError, readCatalog } from '../embed/catalog.ts'
import { releaseTowers } from '../embed/embed.ts'
import { buildFromLog, LogBuildError } from './build.ts'

const opts = new Command('logs:build')
  .description('an event log and a catalog into training arrays, on DuckDB')
  .requiredOption('--log <dir>', 'the event log (logs:pull --out)')
  .requiredOption(
    '--catalog <dir>',
    "the catalog (npm run embed's format: items.jsonl, text.npy, image.npy, queries.jsonl, query.npy)",
  )
  .requiredOption('--out <dir>', 'where the data set goes')
  .option('--models <dir>', 'the release whose tower widths the catalog must have', 'models')
  .option('--memory-limit <size>', "DuckDB's memory limit (it spills to disk past it)", '4GB')
  .parse()
  .opts<{ log: string; catalog: string; out: string; models: string; memoryLimit: string }>()

try {
  const { widths } = releaseTowers(readReleaseManifest(opts.models).models, opts.models)
  const catalog = readCatalog(opts.catalog, widths)
  const s = await buildFromLog({ log: opts.log, catalog, out: opts.out, memoryLimit: opts.memoryLimit })
  const used = s.lists.train + s.lists.valid + s.lists.test
  console.log(`logs:build: ${opts.log} + ${opts.catalog} → ${opts.out} in ${s.seconds.toFixed(1)} s`)
  console.table({
    'records read': s.rows.read,
    'duplicate event ids': s.rows.duplicates,
    impressions: s.rows.impressions,
    interactions: s.rows.interactions,
    ...Object.fromEntries(Object.entries(s.dropped).map(([k, v]) => [`dropped: ${k}`, v])),
    'lists used (train / valid / test)': `${used} (${s.lists.train} / ${s.lists.valid} / ${s.lists.test})`,
    'items shown': s.candidates,
    'clicks / purchases': `${s.labels.clicks} / ${s.labels.purchases}`,
    users: s.counts.users,
  })
} catch (e) {
  if (e instanceof CatalogError || e instanceof LogBuildError) {
    console.error(`logs:build: ${e.message}; nothing was written`)
    process.exit(1)
  }
  throw e
}
