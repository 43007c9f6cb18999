/**
 * `npm run bench:origin`: the origin (`npm run origin`, a process of its own) on localhost, for
 * 100 candidates and 20 history items (the `history` fixture): p50 / p99 latency and requests/s at
 * 1, 8 and 32 concurrent clients, with dynamic batching off (each request its own model call) and
 * on (the default window), and the origin's resident memory. The clients share this machine's
 * cores with the origin.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Command } from 'commander'
import { OnnxBackend } from '../../functions/origin/backend.ts'
import { TeacherModel } from '../../functions/origin/rerank.ts'
import { modelSpec } from '../../functions/shared/manifest.ts'
import { releaseCatalog } from '../origin/parts.ts'
import { spawnOrigin } from '../origin/process.ts'
import { median, percentile } from './stats.ts'

const opts = new Command('bench:origin')
  .option('--seconds <n>', 'length of each timed run', (v) => Number(v), 10)
  .option('--concurrency <list>', 'client counts', (v) => v.split(',').map(Number), [1, 8, 32])
  .option('--port <n>', 'local port', (v) => Number(v), 8790)
  .option('--json <file>', 'where the results go (for npm run report)', 'data/bench/origin.json')
  .parse()
  .opts<{ seconds: number; concurrency: number[]; port: number; json: string }>()

const body = readFileSync('test/fixtures/requests/history.json', 'utf8')
const token = randomBytes(16).toString('hex')

async function once(url: string): Promise<number> {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/rerank`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body,
  })
  const answer = (await res.json()) as { path?: string }
  if (res.status !== 200 || answer.path !== 'origin')
    throw new Error(`bench: origin answered ${res.status} ${JSON.stringify(answer).slice(0, 200)}`)
  return performance.now() - t0
}

async function load(url: string, clients: number): Promise<{ ms: number[]; rps: number }> {
  const ms: number[] = []
  const until = performance.now() + opts.seconds * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) ms.push(await once(url))
    }),
  )
  return { ms, rps: ms.length / ((performance.now() - started) / 1000) }
}

const health = async (url: string) =>
  (await (await fetch(`${url}/healthz`)).json()) as { rss_mb: number; catalog: { items: number; feature_mb: number } }
const fmt = (x: number) => x.toFixed(2).padStart(8)

console.log(
  `bench:origin: 100 candidates, 20 history items, teacher on onnxruntime-node (CPU); node ${process.version}; SYNTHETIC catalog; ${opts.seconds}s per run`,
)
const modes = { off: { BATCH_WINDOW_MS: '0', MAX_BATCH: '1' }, on: {} }
const rps: Record<string, Record<number, number>> = { off: {}, on: {} }
/** Per batching mode and client count: p50, p99, req/s and (at most 5,000 of) the latencies, ms. */
const runs: { batching: string; clients: number; p50: number; p99: number; rps: number; samples: number[] }[] = []
for (const [mode, env] of Object.entries(modes)) {
  const { url, stop } = await spawnOrigin({ PORT: String(opts.port), ORIGIN_TOKEN: token, ...env })
  try {
    const idle = await health(url)
    if (mode === 'off')
      console.log(
        `origin RSS at start: ${idle.rss_mb} MB (${idle.catalog.items} items, ${idle.catalog.feature_mb} MB of catalog features)`,
      )
    for (let i = 0; i < 200; i++) await once(url) // warm-up: JIT, ORT's arenas
    for (const clients of opts.concurrency) {
      const r = await load(url, clients)
      rps[mode][clients] = r.rps
      runs.push({
        batching: mode,
        clients,
        p50: median(r.ms),
        p99: percentile(r.ms, 99),
        rps: r.rps,
        samples: r.ms.slice(0, 5000).map((x) => Number(x.toFixed(3))),
      })
      console.log(
        `batching ${mode.padEnd(3)} concurrency ${String(clients).padStart(2)}: p50 ${fmt(median(r.ms))} ms  p99 ${fmt(percentile(r.ms, 99))} ms  ${r.rps.toFixed(0).padStart(5)} req/s  (n=${r.ms.length})`,
      )
    }
    console.log(`  origin RSS after the runs: ${(await health(url)).rss_mb} MB`)
  } finally {
    await stop()
  }
}
for (const clients of opts.concurrency.filter((c) => c > 1))
  console.log(`batching speed-up at concurrency ${clients}: ${(rps.on[clients] / rps.off[clients]).toFixed(2)}x`)

// ---- the model alone: what batching can buy when HTTP, JSON and the clients cost nothing ------
// The same request's assembled tensors through onnxruntime-node in this process, one at a time
// and 32 at a time: the ceiling of the speed-up above.
const parts = releaseCatalog('models', 'data/worlds/default')
const spec = modelSpec(parts.manifest, 'armmt')
const backend = await OnnxBackend.create(join('models', spec.file))
const teacher = new TeacherModel(spec, parts.catalog, backend)
const request = JSON.parse(body) as { query: string; candidates: { id: string }[]; user: { history: string[] } }
const job = {
  query: parts.catalog.queryVector(request.query)!,
  items: request.candidates.map((c) => parts.catalog.row(c.id)!),
  history: request.user.history.map((id) => parts.catalog.row(id)!),
}
for (const batch of [1, 32]) {
  const jobs = Array.from({ length: batch }, () => job)
  for (let i = 0; i < 20; i++) await teacher.score(jobs)
  const ms: number[] = []
  const until = performance.now() + opts.seconds * 1000
  while (performance.now() < until) {
    const t0 = performance.now()
    await teacher.score(jobs)
    ms.push(performance.now() - t0)
  }
  console.log(
    `model alone, batch ${String(batch).padStart(2)}: p50 ${fmt(median(ms))} ms per call, ${((1000 * batch) / median(ms)).toFixed(0).padStart(5)} requests/s`,
  )
}
await backend.close()
mkdirSync(dirname(opts.json), { recursive: true })
writeFileSync(opts.json, JSON.stringify({ synthetic: true, when: new Date().toISOString(), runs }) + '\n')
console.log(`wrote ${opts.json}`)
