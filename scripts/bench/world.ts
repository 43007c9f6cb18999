/**
 * `npm run bench:world`: each preset's SYNTHETIC world generated from scratch by `npm run world`'s
 * own command, in a child process under GNU time: its counts (from the world's manifest), wall
 * time, peak RSS and size on disk. Results go to data/bench/world.json (docs/world.md quotes them).
 *
 *   npm run bench:world                       smoke and default, seed 1
 *   npm run bench:world -- --presets smoke    one preset
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Command } from 'commander'

const opts = new Command('bench:world')
  .option('--presets <list>', 'presets to generate', 'smoke,default')
  .option('--seed <n>', 'the worlds seed', (v) => Number(v), 1)
  .option('--json <file>', 'where the results go', 'data/bench/world.json')
  .allowExcessArguments(false)
  .parse()
  .opts<{ presets: string; seed: number; json: string }>()

interface WorldCounts {
  items: number
  families: number
  categories: number
  users: number
  queries: number
  sessions: number
  candidates: number
}

export interface WorldFigures {
  counts: WorldCounts
  content_hash: string
  seconds: number
  peak_rss_mb: number
  disk_mb: number
}

const bytesUnder = (dir: string): number =>
  readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)

/** One preset generated from scratch into a temporary folder, timed by GNU time (`%e %M`). */
function measure(preset: string, seed: number): WorldFigures {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-world-')), 'world')
  try {
    const run = spawnSync(
      '/usr/bin/time',
      // The project's Node, as npm scripts run it (npm's own start-up is not the world's time).
      [
        '-f',
        'bench-world %e %M',
        process.execPath,
        '--import',
        'tsx',
        'scripts/world/cli.ts',
        '--preset',
        preset,
        '--seed',
        String(seed),
        '--out',
        out,
        '--quiet',
      ],
      { encoding: 'utf8' },
    )
    if (run.error) throw new Error(`bench:world: cannot run /usr/bin/time (apt-get install time): ${run.error.message}`)
    if (run.status !== 0) throw new Error(`bench:world: ${preset} failed:\n${run.stderr}`)
    const [, seconds, rssKb] = /bench-world ([\d.]+) (\d+)/.exec(run.stderr) ?? []
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    const c = manifest.counts
    return {
      counts: {
        items: c.items,
        families: c.families,
        categories: c.categories,
        users: c.users,
        queries: c.queries,
        sessions: c.sessions,
        candidates: c.candidates,
      },
      content_hash: manifest.content_hash,
      seconds: Number(seconds),
      peak_rss_mb: Number(rssKb) / 1024,
      disk_mb: bytesUnder(out) / 1e6,
    }
  } finally {
    rmSync(dirname(out), { recursive: true, force: true })
  }
}

const presets: Record<string, WorldFigures> = {}
for (const preset of opts.presets.split(',')) {
  presets[preset] = measure(preset, opts.seed)
  const p = presets[preset]
  console.log(
    `bench:world: ${preset}: ${p.counts.items} items, ${p.counts.sessions} sessions in ${p.seconds} s, peak RSS ${p.peak_rss_mb.toFixed(0)} MB, ${p.disk_mb.toFixed(1)} MB on disk`,
  )
}
mkdirSync(dirname(opts.json), { recursive: true })
writeFileSync(
  opts.json,
  JSON.stringify(
    { synthetic: true, when: new Date().toISOString(), node: process.version, seed: opts.seed, presets },
    null,
    2,
  ) + '\n',
)
console.log(`wrote ${opts.json}`)
