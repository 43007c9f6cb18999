/**
 * `npm run bench:origin`: the origin (`npm run origin`, a process of its own) on localhost, for
 * 100 candidates and 20 history items (the `history` fixture), and what bounds its batching gain.
 *
 * 1. End to end: p50 / p99 latency and requests/s at 1, 8 and 32 concurrent clients, with dynamic
 *    batching off (each request its own model call) and on (the origin's defaults), the two
 *    origins running side by side and measured in turns so that drift on a shared machine hits
 *    both alike. Per run: the CPU each request costs the origin (its whole process group, ORT's
 *    threads included) and the clients, the origin's own `Server-Timing` (total, queue, infer)
 *    and the mean batch size.
 * 2. The model alone: the same request's assembled tensors through onnxruntime-node in this
 *    process, one at a time and 32 at a time, feature assembly and ORT apart: the ceiling of the
 *    end-to-end gain.
 * 3. The origin's app in this process with a backend that returns zeros (no model, no HTTP), and
 *    its steps one by one (parse and validate, feature assembly, the answer's JSON).
 *
 * Everything lands in `data/bench/origin.json` (`--json`). The clients share this machine's cores
 * with the origin.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { Command } from 'commander'
import { spawnOrigin, type OriginProcess } from '../origin/process.ts'
import { inProcessSteps, modelAlone, type ModelAlone, type StepCost } from './origin-steps.ts'
import { groupCpuMs } from './process-cpu.ts'
import { median, percentile } from './stats.ts'

const opts = new Command('bench:origin')
  .option('--seconds <n>', 'length of each timed run', (v) => Number(v), 10)
  .option('--concurrency <list>', 'client counts', (v) => v.split(',').map(Number), [1, 8, 32])
  .option('--port <n>', 'local port (batching off; on listens on the next one)', (v) => Number(v), 8790)
  .option('--json <file>', 'where the results go (for npm run report)', 'data/bench/origin.json')
  .parse()
  .opts<{ seconds: number; concurrency: number[]; port: number; json: string }>()

const REQUEST = 'test/fixtures/requests/history.json'
const body = readFileSync(REQUEST, 'utf8')
const token = randomBytes(16).toString('hex')

/** One request's client-side ms and the origin's `Server-Timing` metrics (ms by name). */
interface Sample {
  ms: number
  server: Record<string, number>
}

/** `total;dur=1.2, queue;dur=0.1` → { total: 1.2, queue: 0.1 }. */
function serverTiming(header: string | null): Record<string, number> {
  const metrics: Record<string, number> = {}
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().split(';')
    const dur = params.find((p) => p.trim().startsWith('dur='))
    if (name && dur) metrics[name] = Number(dur.trim().slice(4))
  }
  return metrics
}

async function once(url: string): Promise<Sample> {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/rerank`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body,
  })
  const answer = (await res.json()) as { path?: string }
  if (res.status !== 200 || answer.path !== 'origin')
    throw new Error(`bench: origin answered ${res.status} ${JSON.stringify(answer).slice(0, 200)}`)
  return { ms: performance.now() - t0, server: serverTiming(res.headers.get('Server-Timing')) }
}

interface Health {
  rss_mb: number
  catalog: { items: number; feature_mb: number }
  batching: { batches_run?: number; jobs_run?: number }
}
const health = async (url: string) => (await (await fetch(`${url}/healthz`)).json()) as Health

/** One timed run: per batching mode and client count. */
interface Run {
  batching: string
  clients: number
  p50: number
  p99: number
  rps: number
  /** CPU per answered request: the origin's process group, and this process (the clients). */
  origin_cpu_ms_per_request: number
  client_cpu_ms_per_request: number
  /** The origin's Server-Timing medians: its whole handling, the batch queue, the batch's run. */
  server_ms_p50: { total: number; queue: number; infer: number }
  /** Requests per model call (null when the origin does not count them). */
  mean_batch: number | null
  /** At most 5,000 of the client-side latencies, ms (for npm run report's chart). */
  samples: number[]
}

async function load(origin: OriginProcess, batching: string, clients: number): Promise<Run> {
  const samples: Sample[] = []
  const before = { health: await health(origin.url), cpu: groupCpuMs(origin.child.pid!), own: process.cpuUsage() }
  const until = performance.now() + opts.seconds * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) samples.push(await once(origin.url))
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const own = process.cpuUsage(before.own)
  const originCpu = groupCpuMs(origin.child.pid!) - before.cpu
  const after = (await health(origin.url)).batching
  const batches = (after.batches_run ?? NaN) - (before.health.batching.batches_run ?? NaN)
  const ms = samples.map((s) => s.ms)
  const server = (name: string) => median(samples.map((s) => s.server[name] ?? 0))
  return {
    batching,
    clients,
    p50: median(ms),
    p99: percentile(ms, 99),
    rps: samples.length / seconds,
    origin_cpu_ms_per_request: originCpu / samples.length,
    client_cpu_ms_per_request: (own.user + own.system) / 1000 / samples.length,
    server_ms_p50: { total: server('total'), queue: server('queue'), infer: server('infer') },
    mean_batch: Number.isFinite(batches)
      ? ((after.jobs_run ?? 0) - (before.health.batching.jobs_run ?? 0)) / batches
      : null,
    samples: ms.slice(0, 5000).map((x) => Number(x.toFixed(3))),
  }
}

const fmt = (x: number, digits = 2) => x.toFixed(digits).padStart(7)

function printRun(r: Run): void {
  const s = r.server_ms_p50
  console.log(
    `batching ${r.batching.padEnd(3)} concurrency ${String(r.clients).padStart(2)}: p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  ${fmt(r.rps, 0)} req/s` +
      `  | CPU/request origin ${fmt(r.origin_cpu_ms_per_request)} ms, clients ${fmt(r.client_cpu_ms_per_request)} ms` +
      `  | origin p50 total ${fmt(s.total)} queue ${fmt(s.queue)} infer ${fmt(s.infer)} ms  | batch ${r.mean_batch?.toFixed(1) ?? '?'}`,
  )
}

/** Both origins started, warmed up, then measured in turns at each client count. */
async function endToEnd(): Promise<{ runs: Run[]; rssMb: Record<string, { start: number; end: number }> }> {
  const modes = { off: { BATCH_WINDOW_MS: '0', MAX_BATCH: '1' }, on: {} }
  const origins: [string, OriginProcess][] = []
  const rssMb: Record<string, { start: number; end: number }> = {}
  const runs: Run[] = []
  try {
    for (const [i, [mode, env]] of Object.entries(modes).entries())
      origins.push([mode, await spawnOrigin({ PORT: String(opts.port + i), ORIGIN_TOKEN: token, ...env })])
    for (const [mode, origin] of origins) {
      const idle = await health(origin.url)
      rssMb[mode] = { start: idle.rss_mb, end: NaN }
      if (mode === 'off')
        console.log(
          `origin RSS at start: ${idle.rss_mb} MB (${idle.catalog.items} items, ${idle.catalog.feature_mb} MB of catalog features)`,
        )
      for (let i = 0; i < 200; i++) await once(origin.url) // warm-up: JIT, ORT's arenas
    }
    for (const clients of opts.concurrency)
      for (const [mode, origin] of origins) {
        runs.push(await load(origin, mode, clients))
        printRun(runs.at(-1)!)
      }
    for (const [mode, origin] of origins) rssMb[mode].end = (await health(origin.url)).rss_mb
    console.log(`origin RSS after the runs: off ${rssMb.off.end} MB, on ${rssMb.on.end} MB`)
  } finally {
    await Promise.all(origins.map(([, o]) => o.stop()))
  }
  return { runs, rssMb }
}

function printSteps(model: ModelAlone, steps: Record<string, StepCost>): void {
  for (const [batch, m] of Object.entries(model.batches))
    console.log(
      `model alone, batch ${batch.padStart(2)}: p50 ${fmt(m.call_ms_p50)} ms per call (assembly ${fmt(m.assemble_ms_p50)}, ORT ${fmt(m.ort_ms_p50)}),` +
        ` CPU ${fmt(m.cpu_ms_per_request)} ms per request, ${fmt(m.rps, 0)} requests/s`,
    )
  console.log('in process, per request (wall p50 / wall mean / CPU mean):')
  for (const [name, s] of Object.entries(steps))
    console.log(
      `  ${name.padEnd(34)} ${[s.wall_ms_p50, s.wall_ms_mean, s.cpu_ms_mean].map((x) => fmt(x, 3)).join(' /')} ms`,
    )
}

console.log(
  `bench:origin: 100 candidates, 20 history items, teacher on onnxruntime-node (CPU); node ${process.version}; SYNTHETIC catalog; ${opts.seconds}s per run`,
)
const { runs, rssMb } = await endToEnd()
const model = await modelAlone(REQUEST, Math.max(2, opts.seconds / 2))
const steps = await inProcessSteps(REQUEST, Math.max(1, opts.seconds / 5))
printSteps(model, steps)

const run = (mode: string, clients: number) => runs.find((r) => r.batching === mode && r.clients === clients)!
const gain = Object.fromEntries(
  opts.concurrency.filter((c) => c > 1).map((c) => [String(c), +(run('on', c).rps / run('off', c).rps).toFixed(3)]),
)
for (const [clients, g] of Object.entries(gain))
  console.log(`batching gain at concurrency ${clients}: ${g.toFixed(2)}x end to end`)
console.log(`model alone, batch 32 over batch 1: ${model.gain_32.toFixed(2)}x (the ceiling, same run)`)

// Where the gain goes: the CPU a request costs in all, against the part batching can shrink (the model's).
const most = Math.max(...opts.concurrency)
const cpuOf = (mode: string) => {
  const r = run(mode, most)
  const [origin, clients] = [r.origin_cpu_ms_per_request, r.client_cpu_ms_per_request]
  return { origin, clients, total: origin + clients }
}
const cpuBudget = {
  clients: most,
  off: cpuOf('off'),
  on: cpuOf('on'),
  model_alone: { batch_1: model.batches[1].cpu_ms_per_request, batch_32: model.batches[32].cpu_ms_per_request },
}
const side = (c: { origin: number; clients: number; total: number }) =>
  `${c.total.toFixed(2)} ms (origin ${c.origin.toFixed(2)}, clients ${c.clients.toFixed(2)})`
console.log(
  `CPU per request at ${most} clients: batching off ${side(cpuBudget.off)}, on ${side(cpuBudget.on)}; ` +
    `of it the model alone ${cpuBudget.model_alone.batch_1.toFixed(2)} ms at batch 1, ${cpuBudget.model_alone.batch_32.toFixed(2)} ms at batch 32`,
)

mkdirSync(dirname(opts.json), { recursive: true })
const figures = {
  synthetic: true,
  when: new Date().toISOString(),
  node: process.version,
  seconds_per_run: opts.seconds,
  request: REQUEST,
  gain: { end_to_end: gain, model_alone_32: +model.gain_32.toFixed(3) },
  cpu_ms_per_request: cpuBudget,
  rss_mb: rssMb,
  model_alone: model.batches,
  in_process: steps,
  runs,
}
writeFileSync(opts.json, JSON.stringify(figures) + '\n')
console.log(`wrote ${opts.json}`)
