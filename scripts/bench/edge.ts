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
import type { Manifest } from '../../functions/release/manifest.ts'
import { itemKey, queryKey } from '../../functions/shared/kv-keys.ts'
import { ensureSeeded } from '../kv/seed.ts'
import { buildBundle, type Bundle } from '../worker-bundle.ts'
import { headFlops } from './head-flops.ts'
import {
  coldOwnMs,
  renderEdgeBench,
  type ColdRuns,
  type EdgeResults,
  type HeadFigure,
  type RouteFigures,
} from './edge-report.ts'
import { median, percentile } from './stats.ts'
import { serveBundle } from './workerd.ts'
import { simdPeakRates } from './simd-peak.ts'
import { startWranglerDev } from './wrangler-dev.ts'
import { workerdCpuMs } from './process-cpu.ts'
import { loadKernelModule } from '../kernel/build.ts'

const opts = new Command('bench:edge')
  .option('--requests <n>', 'sequential timed requests per route', (v) => Number(v), 2000)
  .option('--seconds <n>', 'length of each throughput run', (v) => Number(v), 5)
  .option('--connections <list>', 'connections of the throughput runs', '1,4,8')
  .option('--cold <n>', 'fresh isolates for the cold-start figure', (v) => Number(v), 7)
  .option('--via <how>', 'also measure the client figures through `wrangler dev` (wrangler-dev)')
  .option('--port <n>', 'wrangler dev port (with --via wrangler-dev)', (v) => Number(v), 8799)
  .option('--json <file>', 'where the results go', 'data/bench/edge.json')
  .option('--only <parts>', 'run only these parts (client,cold,probe) and write no results file')
  .parse()
  .opts<{
    requests: number
    seconds: number
    connections: string
    cold: number
    via?: string
    port: number
    json: string
    only?: string
  }>()
if (opts.via !== undefined && opts.via !== 'wrangler-dev') throw new Error(`--via: only wrangler-dev, not ${opts.via}`)
const connections = opts.connections.split(',').map(Number)
const PARTS = ['client', 'cold', 'probe'] as const
const only = opts.only?.split(',')
for (const p of only ?? [])
  if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: ${p} is not one of ${PARTS}`)
const runs = (part: (typeof PARTS)[number]) => !only || only.includes(part)

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

// ---- the three parts -----------------------------------------------------------------------

interface ClientPart {
  miniflare: Record<string, RouteFigures>
  wranglerDev?: Record<string, RouteFigures>
}

async function measureClient(bundle: Bundle): Promise<ClientPart> {
  const served = await serveBundle(bundle, { CACHE_TTL_S: '0' })
  let miniflare: Record<string, RouteFigures>
  try {
    miniflare = await clientFigures(served.url, 'client figures')
  } finally {
    await served.dispose()
  }
  if (opts.via !== 'wrangler-dev') return { miniflare }
  const dev = await startWranglerDev(opts.port, { CACHE_TTL_S: '0' })
  try {
    return { miniflare, wranglerDev: await clientFigures(dev.url, 'via wrangler dev') }
  } finally {
    await dev.stop()
  }
}

type ColdPart = Record<'kernel' | 'ort', ColdRuns>

async function measureCold(bundle: Bundle, ortBundle: Bundle): Promise<ColdPart> {
  return {
    kernel: await coldStarts(bundle, opts.cold, {}),
    ort: await coldStarts(ortBundle, opts.cold, { HEAD_BACKEND: 'ort' }),
  }
}

type Blocks = { per_request_ms: number[]; cpu_ms_per_request?: number }

/** A probe loop, with the workerd process's CPU time per request it ran (the probe's 20 untimed
 *  warm-up runs included): it leaves out other processes' turns on the cores, which wall time counts. */
async function withCpu(loop: () => Promise<Blocks>): Promise<Blocks> {
  const before = workerdCpuMs()
  const blocks = await loop()
  const runs = opts.requests + 20
  return { ...blocks, cpu_ms_per_request: (workerdCpuMs() - before) / runs }
}
interface ProbePart {
  own: Blocks
  /** The same, with no event log bound: the impression's cost is the difference. */
  withoutLog: Blocks
  baseline: Blocks
  floor: Blocks
  steps: Record<string, number>
  platform: Record<string, number>
  heads: HeadFigure[]
  peak: number[]
  loads: Record<string, number[]>
}

async function measureHeads(url: string): Promise<ProbePart['heads']> {
  const arch = manifest.models.edge_head.weights!.architecture as unknown as Parameters<typeof headFlops>[0]
  const heads: ProbePart['heads'] = []
  for (const backend of ['kernel', 'ort'])
    for (const l of [50, 100, 200]) {
      const r = await probe<{ per_call_ms: number[] }>(url, `/probe/head?backend=${backend}&l=${l}&h=20&n=1000`)
      const ms = median(r.per_call_ms)
      heads.push({ backend, l, h: 20, ms, gflops: headFlops(arch, l, 20) / (ms * 1e6) })
    }
  return heads
}

async function measureProbe(probeBundle: Bundle): Promise<ProbePart> {
  const server = await serveBundle(probeBundle, { CACHE_TTL_S: '0' })
  try {
    const url = server.url
    const post = { method: 'POST', body }
    await probe<Blocks>(url, '/probe/app?n=200', post) // the LRU, the JIT
    const own = await withCpu(() => probe<Blocks>(url, `/probe/app?n=${opts.requests}`, post))
    const withoutLog = await ownWithoutEventLog(probeBundle)
    const baseline = await withCpu(() => probe<Blocks>(url, `/probe/baseline?n=${opts.requests}`))
    const floor = await withCpu(() => probe<Blocks>(url, `/probe/floor?n=${opts.requests}`, post))
    const steps = await probe<Record<string, number>>(url, `/probe/steps?n=${opts.requests}`, post)
    const platform = await probe<Record<string, number>>(url, `/probe/platform?n=${opts.requests}`, post)
    const heads = await measureHeads(url)
    const peak = (await probe<{ gflops: number[] }>(url, '/probe/peak?n=20')).gflops
    const loads: Record<string, number[]> = { kernel: [], ort: [] }
    for (const backend of ['kernel', 'ort'] as const)
      for (let i = 0; i < 3; i++)
        loads[backend].push(
          (await probe<{ first_score_ms: number }>(url, `/probe/load?backend=${backend}`)).first_score_ms,
        )
    return { own, withoutLog, baseline, floor, steps, platform, heads, peak, loads }
  } finally {
    await server.dispose()
  }
}

/** The same loop on a worker with no EVENTS binding: no answer id's impression is sent. */
async function ownWithoutEventLog(probeBundle: Bundle): Promise<Blocks> {
  const server = await serveBundle(probeBundle, { CACHE_TTL_S: '0' }, { eventLog: false })
  try {
    const post = { method: 'POST', body }
    await probe<Blocks>(server.url, '/probe/app?n=200', post)
    return await probe<Blocks>(server.url, `/probe/app?n=${opts.requests}`, post)
  } finally {
    await server.dispose()
  }
}

// ---- results --------------------------------------------------------------------------------

function results(parts: { client?: ClientPart; cold?: ColdPart; probe?: ProbePart; peakNode: number }): EdgeResults {
  const { client, cold, probe, peakNode } = parts
  const ownMs = probe?.own.per_request_ms
  return {
    synthetic: true,
    when: new Date().toISOString(),
    node: process.version,
    options: { requests: opts.requests, seconds: opts.seconds, connections, cold: opts.cold },
    request: { candidates: request.candidates.length, history: request.user.history.length },
    // The headline figures (the default build), for docs and checks to read by name.
    worker: probe && {
      own_ms_p50: median(ownMs!),
      own_ms_p99: percentile(ownMs!, 99),
      // The same worker with no event log bound: own_ms_p50 minus this is what logging costs the answer.
      own_without_event_log_ms_p50: median(probe.withoutLog.per_request_ms),
      baseline_ms_p50: median(probe.baseline.per_request_ms),
      floor_ms_p50: median(probe.floor.per_request_ms),
      own_cpu_ms: probe.own.cpu_ms_per_request ?? null,
      baseline_cpu_ms: probe.baseline.cpu_ms_per_request ?? null,
      floor_cpu_ms: probe.floor.cpu_ms_per_request ?? null,
    },
    client: client && { miniflare: client.miniflare, wrangler_dev: client.wranglerDev ?? null },
    own_ms_blocks: ownMs,
    own_without_event_log_ms_blocks: probe?.withoutLog.per_request_ms,
    baseline_ms_blocks: probe?.baseline.per_request_ms,
    floor_ms_blocks: probe?.floor.per_request_ms,
    steps_ms: probe?.steps,
    platform_ms: probe?.platform,
    head: probe?.heads,
    simd_peak_gflops: probe?.peak,
    simd_peak_node_gflops: probe && peakNode,
    head_load_ms: probe?.loads,
    cold: cold && {
      client_ms_p50: median(cold.kernel.client),
      kv_ms: median(cold.kernel.kv),
      own_ms: coldOwnMs(cold.kernel),
      kernel: cold.kernel,
      ort: cold.ort,
    },
    bundle: { default_gzip_kib: bundle.gzip / 1024, default: bundle, ort: ortBundle },
  }
}

// ---- run -----------------------------------------------------------------------------------

console.log(
  `bench:edge: ${request.candidates.length} candidates, ${request.user.history.length} history items; workerd through Miniflare; node ${process.version}; SYNTHETIC world`,
)
const bundle = buildBundle('.wrangler/bench/default')
const ortBundle = buildBundle('.wrangler/bench/ort', 'functions/edge/index-ort.ts')
const probeBundle = buildBundle('.wrangler/bench/probe', 'scripts/bench/edge-probe.ts')

const client = runs('client') ? await measureClient(bundle) : undefined
const cold = runs('cold') ? await measureCold(bundle, ortBundle) : undefined
const probed = runs('probe') ? await measureProbe(probeBundle) : undefined

const peakNode = probed ? nodeSimdPeak() : NaN
const measured = results({ client, cold, probe: probed, peakNode })
console.log(renderEdgeBench(measured))

if (client && cold && probed) {
  mkdirSync(dirname(opts.json), { recursive: true })
  writeFileSync(opts.json, JSON.stringify(measured, null, 2) + '\n')
  console.log(`\nwrote ${opts.json}`)
} else console.log(`\n--only ${opts.only}: ${opts.json} not written (it holds every part from one run)`)
