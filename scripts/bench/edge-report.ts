/**
 * `bench:edge`'s results (data/bench/edge.json) and their text report. One renderer serves the
 * benchmark's own output and the docs that quote it (scripts/docs/figures.ts), so what a page shows
 * is what the committed run printed.
 */
import type { Bundle } from '../worker-bundle.ts'
import { median, percentile } from './stats.ts'

/** One route's client figures: one-connection latency and closed-loop throughput. */
export interface RouteFigures {
  p50: number
  p99: number
  n: number
  rps: Record<number, number>
  /** The one-connection latencies, ms (for `npm run report`'s distributions). */
  samples: number[]
}

/** Fresh isolates' first /v1/rerank: one entry per isolate, ms. */
export interface ColdRuns {
  client: number[]
  total: number[]
  kv: number[]
  infer: number[]
  ready: number[]
}

export interface HeadFigure {
  backend: string
  l: number
  h: number
  ms: number
  gflops: number
}

/** What `bench:edge` writes; a run with `--only` fills some parts and is printed, not written. */
export interface EdgeResults {
  synthetic: true
  when: string
  node: string
  options: { requests: number; seconds: number; connections: number[]; cold: number }
  request: { candidates: number; history: number }
  worker?: {
    own_ms_p50: number
    own_ms_p99: number
    /** Absent in runs from before the event log. */
    own_without_event_log_ms_p50?: number
    baseline_ms_p50: number
    floor_ms_p50: number
    own_cpu_ms: number | null
    baseline_cpu_ms: number | null
    floor_cpu_ms: number | null
  }
  client?: { miniflare: Record<string, RouteFigures>; wrangler_dev: Record<string, RouteFigures> | null }
  own_ms_blocks?: number[]
  own_without_event_log_ms_blocks?: number[]
  baseline_ms_blocks?: number[]
  floor_ms_blocks?: number[]
  steps_ms?: Record<string, number>
  platform_ms?: Record<string, number>
  head?: HeadFigure[]
  simd_peak_gflops?: number[]
  simd_peak_node_gflops?: number
  head_load_ms?: Record<string, number[]>
  cold?: { client_ms_p50: number; kv_ms: number; own_ms: number; kernel: ColdRuns; ort: ColdRuns }
  bundle: { default_gzip_kib: number; default: Bundle; ort: Bundle }
}

/** The worker's own part of a cold first request: its total minus the KV time, per isolate, median. */
export const coldOwnMs = (c: { total: number[]; kv: number[] }) => median(c.total.map((t, i) => t - c.kv[i]))

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')
const f3 = (x: number | null | undefined) => (x != null && Number.isFinite(x) ? x.toFixed(3) : 'n/a')
const us = (ms: number, digits = 0) => (ms * 1000).toFixed(digits)
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`

function clientLines(title: string, figures: Record<string, RouteFigures>, connections: number[]): string[] {
  const lines = [
    '',
    title,
    `  ${'route'.padEnd(26)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   ${connections.map((c) => `${c} conn`.padStart(9)).join(' ')}  (req/s)`,
  ]
  for (const [name, r] of Object.entries(figures))
    lines.push(
      `  ${name.padEnd(26)} ${f2(r.p50).padStart(8)} ${f2(r.p99).padStart(8)}   ${connections.map((c) => r.rps[c].toFixed(0).padStart(9)).join(' ')}`,
    )
  const rr = figures['rerank, cache miss']
  const hz = figures['/healthz (one KV read)']
  lines.push(
    `  rerank vs /healthz: ${connections.map((c) => `${((100 * rr.rps[c]) / hz.rps[c]).toFixed(0)} % at ${c}`).join(', ')}; p99 ${f2(rr.p99)} vs ${f2(hz.p99)} ms`,
  )
  return lines
}

function ownTimeLines(r: EdgeResults): string[] {
  const own = r.own_ms_blocks!
  const w = r.worker!
  const steps = r.steps_ms!
  const stepSum = Object.values(steps).reduce((a, b) => a + b, 0)
  return [
    '',
    `the worker's own time per request, in the isolate (app.fetch in a loop, records in the LRU; blocks of 100):`,
    `  per request   p50 ${f2(median(own))} ms   p99 ${f2(percentile(own, 99))} ms   (${own.length} blocks); workerd CPU ${f3(w.own_cpu_ms)} ms per request`,
    ...Object.entries(steps).map(([name, ms]) => `  ${name.padEnd(20)} ${us(ms).padStart(6)} µs`),
    `  ${'the rest'.padEnd(20)} ${us(median(own) - stepSum).padStart(6)} µs  (middleware, routing, body in and out, the log line)`,
    `  an unknown route, for comparison: p50 ${us(w.baseline_ms_p50)} µs, workerd CPU ${f3(w.baseline_cpu_ms)} ms (the middleware and the log line alone)`,
    `  a bare Hono app on the same exchange (body in, 100 items out): p50 ${us(w.floor_ms_p50)} µs, workerd CPU ${f3(w.floor_cpu_ms)} ms (the runtime's floor)`,
    `  the runtime's part of the rest, each alone:`,
    ...Object.entries(r.platform_ms!).map(([name, ms]) => `    ${name.padEnd(18)} ${us(ms, 1).padStart(6)} µs`),
  ]
}

function headLines(r: EdgeResults): string[] {
  const heads = r.head!
  const peak = median(r.simd_peak_gflops!)
  const peakNode = r.simd_peak_node_gflops!
  const loads = r.head_load_ms!
  return [
    '',
    `head compute alone (H = 20), against this machine's WASM SIMD peak ${f2(peak)} GFLOP/s (f32x4 mul+add loop in workerd):`,
    ...heads.map(
      (h) =>
        `  ${h.backend.padEnd(6)} L=${String(h.l).padEnd(4)} ${f2(h.ms).padStart(6)} ms  ${f2(h.gflops).padStart(6)} GFLOP/s  ${((100 * h.gflops) / peak).toFixed(0).padStart(3)} % of peak`,
    ),
    `  the same peak loop in Node on this machine: ${f2(peakNode)} GFLOP/s (the kernel at L=100 is ${((100 * heads[1].gflops) / peakNode).toFixed(0)} % of that)`,
    `  a fresh head's load + first score: kernel ${f2(median(loads.kernel))} ms, ort ${f2(median(loads.ort))} ms`,
  ]
}

function coldLines(r: EdgeResults): string[] {
  const cold = r.cold!
  return [
    '',
    `cold start: the first /v1/rerank of a fresh isolate (${r.options.cold} fresh workerd; local KV service warmed from Node):`,
    ...(
      [
        ['default build (kernel)', cold.kernel],
        ['ort build', cold.ort],
      ] as const
    ).map(
      ([name, c]) =>
        `  ${name.padEnd(24)} client p50 ${f2(median(c.client)).padStart(7)} ms (max ${f2(Math.max(...c.client))})   worker total ${f2(median(c.total))}, kv ${f2(median(c.kv))}, own ${f2(coldOwnMs(c))}, head ${f2(median(c.infer))} ms   workerd start ${f2(median(c.ready))} ms`,
    ),
  ]
}

function bundleLines(r: EdgeResults): string[] {
  const lines = ['', `bundle (wrangler deploy --dry-run --outdir; gzip -9 per module):`]
  for (const [name, b] of [
    ['default build', r.bundle.default],
    ['ort build', r.bundle.ort],
  ] as const) {
    lines.push(`  ${name.padEnd(14)} ${kib(b.raw)} raw, ${kib(b.gzip)} gzip   (wrangler: ${b.wrangler ?? 'n/a'})`)
    for (const f of b.files)
      lines.push(
        `    ${f.name.replace(/^[0-9a-f]{40}-/, '').padEnd(34)} ${kib(f.bytes).padStart(12)} ${kib(f.gzip).padStart(12)}`,
      )
  }
  return lines
}

/**
 * The report `bench:edge` prints, from its results: every part the run measured.
 *
 * @example
 * console.log(renderEdgeBench(JSON.parse(readFileSync('data/bench/edge.json', 'utf8'))))
 */
export function renderEdgeBench(r: EdgeResults): string {
  const { requests, seconds, connections } = r.options
  const lines: string[] = []
  if (r.client) {
    lines.push(
      ...clientLines(
        `client figures, workerd through Miniflare (one connection: n=${requests}; throughput: ${seconds}s each):`,
        r.client.miniflare,
        connections,
      ),
    )
    if (r.client.wrangler_dev)
      lines.push(...clientLines('client figures, through wrangler dev:', r.client.wrangler_dev, connections))
  }
  if (r.worker) lines.push(...ownTimeLines(r), ...headLines(r))
  if (r.cold) lines.push(...coldLines(r))
  lines.push(...bundleLines(r))
  return lines.join('\n').replace(/^\n/, '')
}
