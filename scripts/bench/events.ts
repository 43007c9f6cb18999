/**
 * `npm run bench:events`: the event loop at scale, as `npm start` runs it — wrangler dev (workerd,
 * Miniflare's Queues and R2, local KV seeded with the release), SYNTHETIC shoppers through the typed
 * client (`simulate`), a share of the consumer's batches failing — then the log pulled out of R2
 * and checked against the simulator's own record. Results go to data/bench/events.json (docs/events.md
 * quotes them).
 *
 *   npm run bench:events                                   20,000 sessions, a tenth of the batches failing
 *   npm run bench:events -- --sessions 2000 --fail-share 0
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { nonNegativeInteger, positiveInteger } from '../cli-options.ts'
import { ensureSeeded } from '../kv/seed.ts'
import { localLogSource } from '../logs/log-source.ts'
import { logFiles, pullLog, readLogFile } from '../logs/pull.ts'
import { expectedIds, reconcile, type Reconciliation } from '../simulate/record.ts'
import { ShopperWorld } from '../simulate/shopper.ts'
import { simulate, type SimulateSummary } from '../simulate/simulate.ts'
import { releaseWorld } from '../world/release-world.ts'
import { benchHeader, writeBenchResults } from './results-file.ts'
import { percentile } from './stats.ts'
import { startWranglerDev } from './wrangler-dev.ts'

const opts = new Command('bench:events')
  .option('--sessions <n>', 'simulated sessions', positiveInteger, 20_000)
  .option('--concurrency <c>', 'sessions at once', positiveInteger, 8)
  .option('--seed <s>', "the simulator's seed", nonNegativeInteger, 1)
  .option('--fail-share <p>', "share of the consumer's batches that fail (CONSUMER_FAIL_SHARE)", Number, 0.1)
  .option(
    '--state <dir>',
    "the bench's own wrangler state (its KV seeded once, its queues and R2 emptied each run)",
    '.wrangler/bench-events',
  )
  .option('--port <port>', 'where wrangler dev listens', positiveInteger, 8797)
  .option('--json <file>', 'where the results go', 'data/bench/events.json')
  .allowExcessArguments(false)
  .parse()
  .opts<{
    sessions: number
    concurrency: number
    seed: number
    failShare: number
    state: string
    port: number
    json: string
  }>()

const BUCKET = 'edge-rerank-events'

/** data/bench/events.json. */
export interface EventsResults {
  synthetic: true
  when: string
  node: string
  cpus: number
  load_before: number
  options: { sessions: number; concurrency: number; seed: number; consumer_fail_share: number }
  simulate: SimulateSummary
  log: Reconciliation
  drain_s: number
  consumer: { records: number; records_per_s: number; send_to_r2_ms_p50: number; send_to_r2_ms_p99: number }
}
const USER_KEY = { secret: 'edge-rerank-bench-user-key', version: 'v1' }
const TOKEN_SECRET = 'edge-rerank-bench-user-token'

/** Pulls the local log until it holds every expected id (or `timeoutMs` passes); the seconds it took. */
async function drain(
  expected: Set<string>,
  out: string,
  timeoutMs: number,
): Promise<{ check: Reconciliation; seconds: number }> {
  const started = performance.now()
  let check: Reconciliation
  do {
    const source = await localLogSource(BUCKET, opts.state)
    try {
      await pullLog(source, out)
    } finally {
      await source.close()
    }
    check = reconcile(expected, out)
    if (check.missing === 0) break
    await new Promise((r) => setTimeout(r, 1000))
  } while (performance.now() - started < timeoutMs)
  return { check, seconds: (performance.now() - started) / 1000 }
}

/** Per record: ms from the edge taking it to R2 storing its object; and the log's span. */
async function consumerTimes(out: string) {
  const source = await localLogSource(BUCKET, opts.state)
  const uploaded = new Map<string, number>()
  try {
    for (const prefix of ['log/', 'dead/'])
      for await (const o of source.list(prefix)) uploaded.set(o.key, o.uploaded.getTime())
  } finally {
    await source.close()
  }
  const delays: number[] = []
  let first = Infinity
  let last = -Infinity
  let records = 0
  for (const file of logFiles(out)) {
    const at = uploaded.get(file.slice(out.length + 1))
    if (at === undefined) continue
    for (const r of readLogFile(file)) {
      const received = Date.parse(r.received_at)
      delays.push(at - received)
      first = Math.min(first, received)
      last = Math.max(last, at)
      records++
    }
  }
  return {
    records,
    records_per_s: records / Math.max(1e-3, (last - first) / 1000),
    send_to_r2_ms_p50: percentile(delays, 50),
    send_to_r2_ms_p99: percentile(delays, 99),
  }
}

const header = benchHeader()
const world = new ShopperWorld(releaseWorld({ manifest: readReleaseManifest('models') }, 'data/worlds/default'))
await ensureSeeded({
  target: 'local',
  models: 'models',
  world: 'data/worlds/default',
  persistTo: opts.state,
  userKey: USER_KEY,
})
// A run starts from an empty log and empty queues: what it finds is what it sent.
for (const part of ['r2', 'queues']) rmSync(join(opts.state, 'v3', part), { recursive: true, force: true })
const out = join(opts.state, 'pulled')
rmSync(out, { recursive: true, force: true })
const record = join(opts.state, 'record.ndjson')

const edge = await startWranglerDev(
  opts.port,
  {
    USER_KEY_SECRET: USER_KEY.secret,
    USER_TOKEN_SECRET: TOKEN_SECRET,
    CONSUMER_FAIL_SHARE: String(opts.failShare),
    ORIGIN_URL: '',
  },
  { persistTo: opts.state },
)
let summary: SimulateSummary
let drained: Awaited<ReturnType<typeof drain>>
try {
  const step = Math.max(1, Math.floor(opts.sessions / 10))
  summary = await simulate(world, {
    edge: edge.url,
    sessions: opts.sessions,
    concurrency: opts.concurrency,
    seed: opts.seed,
    userTokenSecret: TOKEN_SECRET,
    record,
    progress: (done) => done % step === 0 && console.log(`bench:events: ${done}/${opts.sessions} sessions`),
  })
  drained = await drain(expectedIds(record), out, 600_000)
} finally {
  await edge.stop()
}
const consumer = await consumerTimes(out)
const results: EventsResults = {
  ...header(),
  options: {
    sessions: opts.sessions,
    concurrency: opts.concurrency,
    seed: opts.seed,
    consumer_fail_share: opts.failShare,
  },
  simulate: summary,
  log: drained.check,
  /** Seconds from the simulator's last session until the log held everything it sent. */
  drain_s: drained.seconds,
  consumer,
}
console.log(JSON.stringify(results, null, 2))
writeBenchResults(opts.json, results)
if (drained.check.missing > 0) {
  console.error(`bench:events: ${drained.check.missing} of ${drained.check.expected} records never reached the log`)
  process.exit(1)
}
