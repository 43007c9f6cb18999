/**
 * `npm run bench:edge`: the edge worker's deploy bundle (`wrangler deploy --dry-run --outdir`)
 * served by workerd through Miniflare's API, local KV seeded from the committed release, on the
 * `history` fixture (100 candidates, 20 history items; answer cache off).
 *
 * It reports, beside the same figures for an unknown route (404, no KV) and `/healthz` (one KV
 * read) on the same server — the runtime's floors on this machine:
 *   - one-connection p50/p99 at the client, and req/s at 1/4/8 connections;
 *   - cold start: the first /v1/rerank of a fresh isolate (a fresh workerd), median of --cold;
 *   - the bundle, raw and gzip, of the default build and of the ort build;
 *   - the worker's own time per request inside the isolate, and its steps (scripts/bench/edge-probe.ts);
 *   - head compute alone, kernel and ORT, at 50/100/200 candidates, against the WASM SIMD peak.
 * `--via wrangler-dev` repeats the client figures through `wrangler dev`'s local proxy as well.
 * Results also go to data/bench/edge.json (for `npm run report`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { SingleBar } from 'cli-progress'
import { Command } from 'commander'
import type { Manifest } from '../../functions/shared/manifest.ts'
import { itemKey, queryKey } from '../../functions/shared/kv-keys.ts'
import { ensureSeeded } from '../kv/seed.ts'
import { buildBundle, type Bundle } from './bundle.ts'
import { headFlops } from './head-flops.ts'
import { median, percentile } from './stats.ts'
import { serveBundle } from './workerd.ts'
import { simdPeakRates } from './simd-peak.ts'
import { startWranglerDev } from './wrangler-dev.ts'
import { loadKernelModule } from '../kernel/build.ts'

const opts = new Command('bench:edge')
  .option('--requests <n>', 'sequential timed requests per route', (v) => Number(v), 2000)
  .option('--seconds <n>', 'length of each throughput run', (v) => Number(v), 5)
  .option('--connections <list>', 'connections of the throughput runs', '1,4,8')
  .option('--cold <n>', 'fresh isolates for the cold-start figure', (v) => Number(v), 7)
  .option('--via <how>', 'also measure the client figures through `wrangler dev` (wrangler-dev)')
  .option('--port <n>', 'wrangler dev port (with --via wrangler-dev)', (v) => Number(v), 8799)
  .option('--json <file>', 'where the results go', 'data/bench/edge.json')
  .parse()
  .opts<{
    requests: number
    seconds: number
    connections: string
    cold: number
    via?: string
    port: number
    json: string
  }>()
if (opts.via !== undefined && opts.via !== 'wrangler-dev') throw new Error(`--via: only wrangler-dev, not ${opts.via}`)
const connections = opts.connections.split(',').map(Number)

const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as Manifest
const body = readFileSync('test/fixtures/requests/history.json', 'utf8')
const request = JSON.parse(body) as { query: string; candidates: { id: string }[]; user: { history: string[] } }
await ensureSeeded({ target: 'local', models: 'models', world: 'data/worlds/default' })

// ---- the three routes and how to call them -------------------------------------------------

interface Route {
  name: string
  path: string
  init: RequestInit
  status: number
}
const ROUTES: Route[] = [
  { name: 'unknown route (404)', path: '/nothing', init: {}, status: 404 },
  { name: '/healthz (one KV read)', path: '/healthz', init: {}, status: 200 },
  {
    name: 'rerank, cache miss',
    path: '/v1/rerank',
    init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body },
    status: 200,
  },
]

interface Timed {
  ms: number
  serverTiming: string
}

async function once(base: string, route: Route): Promise<Timed> {
  const t0 = performance.now()
  const res = await fetch(base + route.path, route.init)
  await res.arrayBuffer()
  const ms = performance.now() - t0
  if (res.status !== route.status) throw new Error(`bench: ${route.path} answered ${res.status}`)
  return { ms, serverTiming: res.headers.get('Server-Timing') ?? '' }
}

async function sequential(base: string, route: Route, n: number): Promise<number[]> {
  for (let i = 0; i < 100; i++) await once(base, route) // warm-up: JIT, the isolate's LRU
  const ms: number[] = []
  for (let i = 0; i < n; i++) ms.push((await once(base, route)).ms)
  return ms
}

/** Closed loop: `c` clients, each sending its next request when the last is answered. */
async function throughput(base: string, route: Route, c: number, seconds: number): Promise<number> {
  let done = 0
  const until = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < until) (await once(base, route), done++)
    }),
  )
  return done / seconds
}

interface RouteFigures {
  p50: number
  p99: number
  n: number
  rps: Record<number, number>
  /** The one-connection latencies, ms (for `npm run report`'s distributions). */
  samples: number[]
}

async function clientFigures(base: string, label: string): Promise<Record<string, RouteFigures>> {
  const out: Record<string, RouteFigures> = {}
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} runs` })
  bar.start(ROUTES.length * (1 + connections.length), 0)
  for (const route of ROUTES) {
    const ms = await sequential(base, route, opts.requests)
    bar.increment()
    const rps: Record<number, number> = {}
    for (const c of connections) ((rps[c] = await throughput(base, route, c, opts.seconds)), bar.increment())
    out[route.name] = {
      p50: median(ms),
      p99: percentile(ms, 99),
      n: ms.length,
      rps,
      samples: ms.map((x) => Number(x.toFixed(3))),
    }
  }
  bar.stop()
  return out
}

// ---- cold starts ---------------------------------------------------------------------------

const timingOf = (header: string, name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(header)?.[1] ?? NaN)

/** The request's KV keys: read once from Node so the local KV service is warm, not the isolate. */
const requestKeys = [
  await queryKey(manifest.embedding.kv_prefix, request.query),
  ...[...request.candidates.map((c) => c.id), ...request.user.history].map((id) =>
    itemKey(manifest.embedding.kv_prefix, id),
  ),
]

async function coldStarts(bundle: Bundle, n: number, vars: Record<string, string>) {
  const client: number[] = []
  const total: number[] = []
  const kv: number[] = []
  const infer: number[] = []
  const ready: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const served = await serveBundle(bundle, { CACHE_TTL_S: '0', ...vars })
    ready.push(performance.now() - t0)
    try {
      const ns = await served.mf.getKVNamespace('EMBEDDINGS')
      for (let k = 0; k < requestKeys.length; k += 100) await ns.get(requestKeys.slice(k, k + 100), 'text')
      const first = await once(served.url, ROUTES[2])
      client.push(first.ms)
      total.push(timingOf(first.serverTiming, 'total'))
      kv.push(timingOf(first.serverTiming, 'kv'))
      infer.push(timingOf(first.serverTiming, 'infer'))
    } finally {
      await served.dispose()
    }
  }
  return { client, total, kv, infer, ready }
}

// ---- the probe: the worker's own time, head compute, peak ----------------------------------

async function probe<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(base + path, init)
  if (!res.ok) throw new Error(`probe ${path}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<T>
}

/** The same f32x4 loop in Node (V8 with its trap handler), for comparison with workerd's figure. */
function nodeSimdPeak(): number {
  const kernel = new WebAssembly.Instance(loadKernelModule(), {}).exports as unknown as {
    simdPeak(iterations: number, seed: number): number
  }
  return median(simdPeakRates(kernel, 20).slice(5))
}

// ---- run -----------------------------------------------------------------------------------

console.log(
  `bench:edge: ${request.candidates.length} candidates, ${request.user.history.length} history items; workerd through Miniflare; node ${process.version}; SYNTHETIC world`,
)
const bundle = buildBundle('.wrangler/bench/default')
const ortBundle = buildBundle('.wrangler/bench/ort', 'functions/edge/index-ort.ts')
const probeBundle = buildBundle('.wrangler/bench/probe', 'scripts/bench/edge-probe.ts')

const served = await serveBundle(bundle, { CACHE_TTL_S: '0' })
let viaMiniflare: Record<string, RouteFigures>
try {
  viaMiniflare = await clientFigures(served.url, 'client figures')
} finally {
  await served.dispose()
}

let viaWranglerDev: Record<string, RouteFigures> | undefined
if (opts.via === 'wrangler-dev') {
  const dev = await startWranglerDev(opts.port, { CACHE_TTL_S: '0' })
  try {
    viaWranglerDev = await clientFigures(dev.url, 'via wrangler dev')
  } finally {
    await dev.stop()
  }
}

const cold = await coldStarts(bundle, opts.cold, {})
const coldOrt = await coldStarts(ortBundle, opts.cold, { HEAD_BACKEND: 'ort' })

const probeServer = await serveBundle(probeBundle, { CACHE_TTL_S: '0' })
type Blocks = { per_request_ms: number[] }
let own: Blocks
let baseline: Blocks
let steps: Record<string, number>
const heads: { backend: string; l: number; h: number; ms: number; gflops: number }[] = []
let peak: number[]
let loads: Record<string, number[]>
try {
  const post = { method: 'POST', body }
  await probe<Blocks>(probeServer.url, '/probe/app?n=200', post) // the LRU, the JIT
  own = await probe<Blocks>(probeServer.url, `/probe/app?n=${opts.requests}`, post)
  baseline = await probe<Blocks>(probeServer.url, `/probe/baseline?n=${opts.requests}`)
  steps = await probe(probeServer.url, `/probe/steps?n=${opts.requests}`, post)
  const arch = manifest.models.edge_head.weights!.architecture as unknown as Parameters<typeof headFlops>[0]
  for (const backend of ['kernel', 'ort'])
    for (const l of [50, 100, 200]) {
      const r = await probe<{ per_call_ms: number[] }>(
        probeServer.url,
        `/probe/head?backend=${backend}&l=${l}&h=20&n=1000`,
      )
      const ms = median(r.per_call_ms)
      heads.push({ backend, l, h: 20, ms, gflops: headFlops(arch, l, 20) / (ms * 1e6) })
    }
  peak = (await probe<{ gflops: number[] }>(probeServer.url, '/probe/peak?n=20')).gflops
  loads = { kernel: [], ort: [] }
  for (const backend of ['kernel', 'ort'] as const)
    for (let i = 0; i < 3; i++)
      loads[backend].push(
        (await probe<{ first_score_ms: number }>(probeServer.url, `/probe/load?backend=${backend}`)).first_score_ms,
      )
} finally {
  await probeServer.dispose()
}

// ---- report --------------------------------------------------------------------------------

/** The worker's own part of a cold first request: its total minus the KV time, per isolate, median. */
const coldOwnMs = (c: { total: number[]; kv: number[] }) => median(c.total.map((t, i) => t - c.kv[i]))
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`

function printClient(title: string, figures: Record<string, RouteFigures>) {
  console.log(`\n${title}`)
  console.log(
    `  ${'route'.padEnd(26)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   ${connections.map((c) => `${c} conn`.padStart(9)).join(' ')}  (req/s)`,
  )
  for (const [name, r] of Object.entries(figures))
    console.log(
      `  ${name.padEnd(26)} ${f2(r.p50).padStart(8)} ${f2(r.p99).padStart(8)}   ${connections.map((c) => r.rps[c].toFixed(0).padStart(9)).join(' ')}`,
    )
  const rr = figures['rerank, cache miss']
  const hz = figures['/healthz (one KV read)']
  console.log(
    `  rerank vs /healthz: ${connections.map((c) => `${((100 * rr.rps[c]) / hz.rps[c]).toFixed(0)} % at ${c}`).join(', ')}; p99 ${f2(rr.p99)} vs ${f2(hz.p99)} ms`,
  )
}

printClient(
  `client figures, workerd through Miniflare (one connection: n=${opts.requests}; throughput: ${opts.seconds}s each):`,
  viaMiniflare,
)
if (viaWranglerDev) printClient('client figures, through wrangler dev:', viaWranglerDev)

const ownMs = own.per_request_ms
console.log(
  `\nthe worker's own time per request, in the isolate (app.fetch in a loop, records in the LRU; blocks of 100):`,
)
console.log(
  `  per request   p50 ${f2(median(ownMs))} ms   p99 ${f2(percentile(ownMs, 99))} ms   (${ownMs.length} blocks)`,
)
const stepSum = Object.values(steps).reduce((a, b) => a + b, 0)
for (const [name, ms] of Object.entries(steps))
  console.log(`  ${name.padEnd(20)} ${(ms * 1000).toFixed(0).padStart(6)} µs`)
console.log(
  `  ${'the rest'.padEnd(20)} ${((median(ownMs) - stepSum) * 1000).toFixed(0).padStart(6)} µs  (middleware, routing, the log line)`,
)
console.log(
  `  an unknown route, for comparison: p50 ${(median(baseline.per_request_ms) * 1000).toFixed(0)} µs (the middleware and the log line alone)`,
)

const peakMedian = median(peak)
const peakNode = nodeSimdPeak()
console.log(
  `\nhead compute alone (H = 20), against this machine's WASM SIMD peak ${f2(peakMedian)} GFLOP/s (f32x4 mul+add loop in workerd):`,
)
for (const h of heads)
  console.log(
    `  ${h.backend.padEnd(6)} L=${String(h.l).padEnd(4)} ${f2(h.ms).padStart(6)} ms  ${f2(h.gflops).padStart(6)} GFLOP/s  ${((100 * h.gflops) / peakMedian).toFixed(0).padStart(3)} % of peak`,
  )
console.log(
  `  the same peak loop in Node on this machine: ${f2(peakNode)} GFLOP/s (the kernel at L=100 is ${((100 * heads[1].gflops) / peakNode).toFixed(0)} % of that)`,
)
console.log(
  `  a fresh head's load + first score: kernel ${f2(median(loads.kernel))} ms, ort ${f2(median(loads.ort))} ms`,
)

console.log(
  `\ncold start: the first /v1/rerank of a fresh isolate (${opts.cold} fresh workerd; local KV service warmed from Node):`,
)
for (const [name, c] of [
  ['default build (kernel)', cold],
  ['ort build', coldOrt],
] as const)
  console.log(
    `  ${name.padEnd(24)} client p50 ${f2(median(c.client)).padStart(7)} ms (max ${f2(Math.max(...c.client))})   worker total ${f2(median(c.total))}, kv ${f2(median(c.kv))}, own ${f2(coldOwnMs(c))}, head ${f2(median(c.infer))} ms   workerd start ${f2(median(c.ready))} ms`,
  )

console.log(`\nbundle (wrangler deploy --dry-run --outdir; gzip -9 per module):`)
for (const [name, b] of [
  ['default build', bundle],
  ['ort build', ortBundle],
] as const) {
  console.log(`  ${name.padEnd(14)} ${kib(b.raw)} raw, ${kib(b.gzip)} gzip   (wrangler: ${b.wrangler ?? 'n/a'})`)
  for (const f of b.files)
    console.log(
      `    ${f.name.replace(/^[0-9a-f]{40}-/, '').padEnd(34)} ${kib(f.bytes).padStart(12)} ${kib(f.gzip).padStart(12)}`,
    )
}

mkdirSync(dirname(opts.json), { recursive: true })
writeFileSync(
  opts.json,
  JSON.stringify(
    {
      synthetic: true,
      when: new Date().toISOString(),
      node: process.version,
      request: { candidates: request.candidates.length, history: request.user.history.length },
      // The headline figures (the default build), for docs and checks to read by name.
      worker: {
        own_ms_p50: median(ownMs),
        own_ms_p99: percentile(ownMs, 99),
        baseline_ms_p50: median(baseline.per_request_ms),
      },
      client: { miniflare: viaMiniflare, wrangler_dev: viaWranglerDev ?? null },
      own_ms_blocks: ownMs,
      baseline_ms_blocks: baseline.per_request_ms,
      steps_ms: steps,
      head: heads,
      simd_peak_gflops: peak,
      simd_peak_node_gflops: peakNode,
      head_load_ms: loads,
      cold: {
        client_ms_p50: median(cold.client),
        kv_ms: median(cold.kv),
        own_ms: coldOwnMs(cold),
        kernel: cold,
        ort: coldOrt,
      },
      bundle: { default_gzip_kib: bundle.gzip / 1024, default: bundle, ort: ortBundle },
    },
    null,
    2,
  ) + '\n',
)
console.log(`\nwrote ${opts.json}`)
