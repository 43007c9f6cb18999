/**
 * `npm run bench:logs`: `logs:build` at growing log sizes — the SYNTHETIC world's sessions written
 * as the edge's event log (`world:log`, going round the world past its 120,000 sessions), each size
 * built in its own process so its peak memory is its own (GNU time's maximum resident set). Results
 * go to data/bench/logs.json (docs/data.md quotes them).
 *
 *   npm run bench:logs                                   120,000, 480,000 and 1,000,000 impressions
 *   npm run bench:logs -- --impressions 30000,120000
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import type { BuildSummary } from '../logs/build.ts'
import { benchHeader, writeBenchResults } from './results-file.ts'
import { logFiles } from '../logs/pull.ts'

const opts = new Command('bench:logs')
  .option('--impressions <list>', 'log sizes, in impressions', '120000,480000,1000000')
  .option('--memory-limit <size>', "DuckDB's memory limit", '4GB')
  .option('--dir <dir>', 'where the logs are written (large)', tmpdir())
  .option('--json <file>', 'where the results go', 'data/bench/logs.json')
  .allowExcessArguments(false)
  .parse()
  .opts<{ impressions: string; memoryLimit: string; dir: string; json: string }>()

export interface LogsRun {
  impressions: number
  records: number
  log_mb: number
  seconds: number
  records_per_s: number
  impressions_per_s: number
  peak_rss_mb: number
}

/** Runs a command under GNU time; its wall seconds and peak resident set. */
function timed(args: string[]): { seconds: number; peakMb: number } {
  const started = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', 'peak_kb=%M', ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  const kb = Number(/peak_kb=(\d+)/.exec(r.stderr)?.[1])
  return { seconds: (performance.now() - started) / 1000, peakMb: kb / 1024 }
}

const header = benchHeader()
const runs: LogsRun[] = []
for (const impressions of opts.impressions.split(',').map(Number)) {
  const dir = mkdtempSync(join(opts.dir, 'bench-logs-'))
  try {
    console.log(`bench:logs: writing ${impressions} impressions…`)
    timed(['npx', 'tsx', 'scripts/world/export-log-cli.ts', '--out', dir, '--sessions', String(impressions)])
    const bytes = logFiles(join(dir, 'log')).reduce((n, f) => n + statSync(f).size, 0)
    const out = join(dir, 'built')
    const build = timed([
      'npx',
      'tsx',
      'scripts/logs/build-cli.ts',
      '--log',
      join(dir, 'log'),
      '--catalog',
      join(dir, 'catalog'),
      '--out',
      out,
      '--memory-limit',
      opts.memoryLimit,
    ])
    const summary = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BuildSummary
    const run: LogsRun = {
      impressions,
      records: summary.rows.read,
      log_mb: bytes / 2 ** 20,
      seconds: summary.seconds,
      records_per_s: summary.rows.read / summary.seconds,
      impressions_per_s: impressions / summary.seconds,
      peak_rss_mb: build.peakMb,
    }
    runs.push(run)
    console.log(`bench:logs: ${JSON.stringify(run)}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
writeBenchResults(opts.json, { ...header(), duckdb_memory_limit: opts.memoryLimit, runs })
