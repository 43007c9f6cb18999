/**
 * `npm run bench:edge`: the edge worker in workerd (wrangler dev, local KV seeded from the
 * committed release) on this machine, for 100 candidates and 20 history items (the `history`
 * fixture). Prints p50/p99 latency (client-observed over loopback, and the worker's own
 * Server-Timing total), requests/s, cold start (first /v1/rerank of a fresh isolate, over several
 * fresh starts), the cache-hit path, and the bundle size from wrangler's dry-run upload figures.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { SingleBar } from 'cli-progress'
import { ensureSeeded } from '../kv/seed.ts'
import { median, percentile } from './stats.ts'
import { startWranglerDev } from './wrangler-dev.ts'

const opts = new Command('bench:edge')
  .option('--requests <n>', 'sequential timed requests', (v) => Number(v), 2000)
  .option('--concurrency <n>', 'clients in the throughput run', (v) => Number(v), 8)
  .option('--seconds <n>', 'length of the throughput run', (v) => Number(v), 10)
  .option('--cold <n>', 'fresh starts for the cold-start figure', (v) => Number(v), 5)
  .option('--port <n>', 'local port', (v) => Number(v), 8799)
  .parse()
  .opts<{ requests: number; concurrency: number; seconds: number; cold: number; port: number }>()

const body = readFileSync('test/fixtures/requests/history.json', 'utf8')
const request = JSON.parse(body) as { candidates: unknown[]; user: { history: unknown[] } }
await ensureSeeded({ target: 'local', models: 'models', world: 'data/worlds/default' })

interface Timed {
  clientMs: number
  serverMs: number
  path: string
  cache: string
}

async function rerankOnce(url: string): Promise<Timed> {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/rerank`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
  await res.arrayBuffer()
  const clientMs = performance.now() - t0
  if (res.status !== 200) throw new Error(`bench: /v1/rerank answered ${res.status}`)
  const total = /total;dur=([\d.]+)/.exec(res.headers.get('Server-Timing') ?? '')
  return {
    clientMs,
    serverMs: total ? Number(total[1]) : Number.NaN,
    path: res.headers.get('X-Rerank-Path') ?? '?',
    cache: res.headers.get('X-Cache') ?? '?',
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')
const line = (label: string, xs: number[]) =>
  `${label.padEnd(34)} p50 ${fmt(median(xs)).padStart(8)} ms   p99 ${fmt(percentile(xs, 99)).padStart(8)} ms   (n=${xs.length})`

console.log(
  `bench:edge: ${request.candidates.length} candidates, ${request.user.history.length} history items; node ${process.version}; SYNTHETIC world`,
)

// ---- bundle --------------------------------------------------------------------------------
const dry = execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', '.wrangler/bench-dist'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
})
const upload = /Total Upload:\s*([\d.]+ \w+)\s*\/\s*gzip:\s*([\d.]+ \w+)/.exec(dry)

// ---- cold starts ---------------------------------------------------------------------------
const cold: Timed[] = []
const boots: number[] = []
const bar = new SingleBar({ format: 'cold starts [{bar}] {value}/{total}' })
bar.start(opts.cold, 0)
for (let i = 0; i < opts.cold; i++) {
  const dev = await startWranglerDev(opts.port, { CACHE_TTL_S: '0' })
  try {
    boots.push(dev.startMs)
    cold.push(await rerankOnce(dev.url))
  } finally {
    await dev.stop()
  }
  bar.increment()
}
bar.stop()

// ---- warm: sequential latency, then throughput ----------------------------------------------
const dev = await startWranglerDev(opts.port, { CACHE_TTL_S: '0' })
const warm: Timed[] = []
let hits: Timed[] = []
let throughput = 0
try {
  for (let i = 0; i < 100; i++) await rerankOnce(dev.url) // warm-up: ORT session, LRU, JIT
  for (let i = 0; i < opts.requests; i++) warm.push(await rerankOnce(dev.url))
  let done = 0
  const until = performance.now() + opts.seconds * 1000
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < until) (await rerankOnce(dev.url), done++)
    }),
  )
  throughput = done / opts.seconds
} finally {
  await dev.stop()
}
// The cache-hit path, with caching on.
const cached = await startWranglerDev(opts.port)
try {
  await rerankOnce(cached.url)
  for (let i = 0; i < 500; i++) hits.push(await rerankOnce(cached.url))
  hits = hits.filter((h) => h.cache === 'HIT')
} finally {
  await cached.stop()
}

const paths = new Set(warm.map((w) => w.path))
console.log(`\nwarm edge path (${[...paths].join(', ')}; answer cache off):`)
console.log(
  line(
    '  client latency (loopback)',
    warm.map((w) => w.clientMs),
  ),
)
console.log(
  line(
    '  worker Server-Timing total',
    warm.map((w) => w.serverMs),
  ),
)
console.log(
  `  throughput, ${opts.concurrency} clients, ${opts.seconds}s:     ${throughput.toFixed(0)} req/s (one workerd isolate)`,
)
console.log(`cache-hit path:`)
console.log(
  line(
    '  client latency (loopback)',
    hits.map((w) => w.clientMs),
  ),
)
console.log(`cold start (first /v1/rerank of a fresh isolate, ${opts.cold} fresh starts):`)
console.log(
  line(
    '  client latency',
    cold.map((w) => w.clientMs),
  ),
)
console.log(
  line(
    '  worker Server-Timing total',
    cold.map((w) => w.serverMs),
  ),
)
console.log(line('  wrangler dev spawn → ready', boots))
console.log(
  `bundle (wrangler deploy --dry-run): ${upload ? `${upload[1]} raw, ${upload[2]} gzip` : 'figures not found in wrangler output'}`,
)
