/**
 * `npm run bench:embed`: `npm run embed`'s own code (`embedCatalog`) over the SYNTHETIC world's
 * catalog (`writeWorldCatalog`, what docs/catalog.md runs), several times, each into a fresh output:
 * items/s as the command prints it (items over the whole run: both towers, the codec, the files
 * written). Results go to data/bench/embed.json (README.md and docs/catalog.md quote them).
 *
 *   npm run bench:embed                       six runs over data/worlds/default
 *   npm run bench:embed -- --runs 3
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { positiveInteger } from '../cli-options.ts'
import { embedCatalog } from '../embed/embed.ts'
import { writeWorldCatalog } from '../embed/world-catalog.ts'
import { benchHeader, writeBenchResults } from './results-file.ts'
import { median } from './stats.ts'

const opts = new Command('bench:embed')
  .option('--world <dir>', 'the world taken as the catalog', 'data/worlds/default')
  .option('--runs <n>', 'timed runs', positiveInteger, 6)
  .option('--batch <n>', "rows per tower call (embed's default)", positiveInteger, 512)
  .option('--json <file>', 'where the results go', 'data/bench/embed.json')
  .allowExcessArguments(false)
  .parse()
  .opts<{ world: string; runs: number; batch: number; json: string }>()

export interface EmbedRun {
  seconds: number
  items_per_s: number
}

const header = benchHeader()
const dir = mkdtempSync(join(tmpdir(), 'bench-embed-'))
try {
  const catalog = join(dir, 'catalog')
  const { items, queries } = writeWorldCatalog(opts.world, catalog)
  const runs: EmbedRun[] = []
  let output = { records: 0, files: [] as string[] }
  for (let i = 0; i < opts.runs; i++) {
    const s = await embedCatalog({ catalog, out: join(dir, `out-${i}`), batch: opts.batch })
    runs.push({ seconds: s.seconds, items_per_s: s.items / s.seconds })
    output = { records: s.put, files: s.files }
    console.log(`bench:embed: run ${i + 1}: ${s.seconds.toFixed(2)} s, ${(s.items / s.seconds).toFixed(0)} items/s`)
  }
  const rate = median(runs.map((r) => r.items_per_s))
  console.log(`bench:embed: median ${rate.toFixed(0)} items/s over ${runs.length} runs`)
  writeBenchResults(opts.json, {
    ...header(),
    world: opts.world,
    catalog: { items, queries },
    /** What each run wrote: records to put and the bulk files. */
    output,
    batch: opts.batch,
    runs,
    median_items_per_s: rate,
  })
  console.log(`wrote ${opts.json}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
