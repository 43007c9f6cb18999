/**
 * The benchmark's probe: a worker (bundled by wrangler like the edge, served by the same workerd)
 * that measures the edge from inside its isolate, where loopback HTTP and the local runtime's
 * services cost nothing. workerd's clock ticks in whole milliseconds, so every figure is a loop's
 * elapsed time over its iterations, in blocks.
 *
 *   POST /probe/app?n=     the default build's app.fetch on the request body, n times (records in the LRU)
 *   GET  /probe/baseline?n= app.fetch of an unknown route, n times: the middleware every request pays
 *   POST /probe/floor?n=   a bare Hono app on the same exchange (body in, a 100-item answer out), n times
 *   POST /probe/steps?n=   each step of that request alone, n times: the same functions the route calls
 *   POST /probe/platform?n= the runtime's own part of "the rest": body read, Response, a header, the log line
 *   GET  /probe/head?backend=kernel|ort&l=&h=&n=   head compute alone on random inputs
 *   GET  /probe/peak?n=    the kernel module's f32x4 multiply-add loop (this machine's WASM SIMD peak)
 *   GET  /probe/load?backend=kernel|ort            a fresh head's load and first score
 *
 * Not part of any deployment: scripts/bench/edge.ts builds and serves it next to the real bundle.
 */
import { Hono } from 'hono'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import { AnswerCache } from '../../functions/edge/answer-cache.ts'
import { impressionOf } from '../../functions/events/impression.ts'
import { resolveRequest } from '../../functions/edge/resolved-request.ts'
import { manifest } from '../../functions/edge/artifacts.ts'
import { edgeConfig, type Bindings } from '../../functions/edge/config.ts'
import { kernelArtifacts } from '../../functions/edge/head/kernel-bundle.ts'
import { KernelHead } from '../../functions/edge/head/kernel-head.ts'
import { ortArtifacts } from '../../functions/edge/head/ort-bundle.ts'
import { OrtHead } from '../../functions/edge/head/ort-head.ts'
import type { RerankHead } from '../../functions/edge/head/rerank-head.ts'
import { embeddingStore } from '../../functions/edge/parts.ts'
import { headFeatures } from '../../functions/edge/rerank.ts'
import { median } from './stats.ts'
import app from '../../functions/edge/index.ts'
import type { HeadFeatures } from '../../functions/shared/head-inputs.ts'
import { rankByScore } from '../../functions/shared/ranking.ts'
import { RerankRequest } from '../../functions/shared/rerank-api.ts'
import { precheckRerankRequest } from '../../functions/shared/rerank-precheck.ts'
import { simdPeakRates } from './simd-peak.ts'

/** Per-iteration ms of each block of `size` runs of `fn` (n runs in all, after `warm` untimed ones). */
async function timeBlocks(fn: () => unknown, n: number, size = 100, warm = 20): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn()
  const blocks: number[] = []
  for (let done = 0; done < n; done += size) {
    const t0 = performance.now()
    for (let i = 0; i < size; i++) await fn()
    blocks.push((performance.now() - t0) / size)
  }
  return blocks
}

const heads: Record<string, RerankHead> = {}
const headOf = (backend: string): RerankHead =>
  (heads[backend] ??= backend === 'ort' ? new OrtHead(ortArtifacts) : new KernelHead(kernelArtifacts))

/** Random head inputs of the release's width (values do not change the work done). */
function randomFeatures(l: number, h: number): HeadFeatures {
  const gen = xoroshiro128plus(l * 1000 + h)
  const dim = manifest.embedding.dim
  const vector = () => Float32Array.from({ length: dim }, () => uniformFloat64(gen) - 0.5)
  const record = () => ({ vector: vector(), price: 1 + 100 * uniformFloat64(gen) })
  return { query: vector(), items: Array.from({ length: l }, record), history: Array.from({ length: h }, record) }
}

/** app.fetch of an unknown route, n times: what every request pays before any route runs
 *  (request id, timing, the log line, routing, the problem+json 404). */
async function baselineLoop(env: Bindings, ctx: ExecutionContext, n: number) {
  const once = async () => {
    const res = await app.fetch(new Request('https://edge.bench/nothing'), env, ctx)
    await res.arrayBuffer()
  }
  return { per_request_ms: await timeBlocks(once, n) }
}

/** The runtime's floor for this exchange: a bare Hono app that reads the same body and answers a
 *  100-item JSON body of the same shape, with no middleware, validation, KV or head. */
async function floorLoop(body: string, env: Bindings, ctx: ExecutionContext, n: number) {
  const answer = JSON.stringify({
    items: Array.from({ length: 100 }, (_, i) => ({ id: `i${String(i).padStart(6, '0')}`, score: -i / 7 })),
    path: 'edge',
    model: manifest.version,
  })
  const bare = new Hono().post('/v1/rerank', async (c) => {
    await c.req.text()
    return c.body(answer, 200, { 'Content-Type': 'application/json' })
  })
  const length = String(new TextEncoder().encode(body).byteLength)
  const once = async () => {
    const res = await bare.fetch(
      new Request('https://edge.bench/v1/rerank', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': length },
        body,
      }),
      env,
      ctx,
    )
    await res.arrayBuffer()
  }
  return { per_request_ms: await timeBlocks(once, n) }
}

async function appLoop(body: string, env: Bindings, ctx: ExecutionContext, n: number) {
  const vars = { ...env, CACHE_TTL_S: '0' }
  // As a client sends it: with its length (without one, hono's bodyLimit must stream the body to count it).
  const length = String(new TextEncoder().encode(body).byteLength)
  const once = async () => {
    const res = await app.fetch(
      new Request('https://edge.bench/v1/rerank', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': length },
        body,
      }),
      vars,
      ctx,
    )
    if (res.status !== 200 || res.headers.get('X-Rerank-Path') !== 'edge')
      throw new Error(`probe: app answered ${res.status} on ${res.headers.get('X-Rerank-Path')}`)
    await res.arrayBuffer()
  }
  return { per_request_ms: await timeBlocks(once, n) }
}

/** Each step of a cache-miss edge answer, alone: what functions/edge/routes/rerank.ts and
 *  functions/edge/rerank.ts call, in their order. */
async function stepLoops(body: string, env: Bindings, n: number) {
  const config = edgeConfig({ ...env, CACHE_TTL_S: '0' })
  const req = RerankRequest.parse(JSON.parse(body))
  const cache = new AnswerCache({ ttlSeconds: 300, modelVersion: manifest.version })
  const resolve = () => resolveRequest(req, { config, userToken: undefined, cacheKey: (r) => cache.keyFor(r) })
  const { history } = await resolve()
  const given = history && 'given' in history ? history.given : undefined
  const ids = req.candidates.map((c) => c.id)
  const store = embeddingStore(env, config)
  const lookupArgs = {
    query: req.query,
    ids,
    history: given,
    historyKey: undefined,
    historyLimit: config.HISTORY_LIMIT,
  }
  const lookup = await store.lookup(lookupArgs)
  const features = () => headFeatures(lookup, ids, given ?? [])
  const head = headOf('kernel')
  const scores = await head.score(features())
  const prebuilt = features()
  const resolved = await resolve()
  const answerBody = {
    items: rankByScore(ids.map((id, i) => ({ id, score: scores[i] }))),
    path: 'edge' as const,
    model: manifest.version,
  }
  const impression = () =>
    impressionOf(resolved, { answerId: crypto.randomUUID(), at: Date.now(), cache: 'miss', body: answerBody }, config)
  const step = async (fn: () => unknown) => median(await timeBlocks(fn, 5 * n, 500))
  return {
    // As functions/http/rerank-input.ts does: the fast path, the schema only where it declines.
    parse_and_validate: await step(() => {
      const json: unknown = JSON.parse(body)
      return precheckRerankRequest(json) ?? RerankRequest.parse(json)
    }),
    // The history source, the user's proof and key, and the answer cache's key (a SHA-256).
    resolve: await step(resolve),
    kv_decode: await step(() => embeddingStore(env, config).lookup(lookupArgs)),
    feature_assembly: await step(features),
    // The head alone: its features assembled once, outside the timed loop.
    head: await step(() => head.score(prebuilt)),
    respond: await step(() =>
      JSON.stringify({
        items: rankByScore(ids.map((id, i) => ({ id, score: scores[i] }))),
        path: 'edge',
        model: manifest.version,
      }),
    ),
    // After the response (waitUntil): the impression record, from the resolved request and the answer,
    impression: await step(impression),
    // and its send onto the EVENTS queue (Miniflare's local queue here).
    ...(env.EVENTS && {
      impression_send: await step(async () =>
        env.EVENTS!.sendBatch([{ body: await impression(), contentType: 'json' }]),
      ),
    }),
  }
}

/** What the runtime itself charges for the parts of "the rest" every answer needs, each alone: the
 *  request's body read, the answer's Response, one header added after the fact, the log line, a
 *  request id. Our code cannot go below these; the probe reports them beside "the rest". */
async function platformLoops(body: string, n: number) {
  const step = async (fn: () => unknown) => median(await timeBlocks(fn, 5 * n, 500))
  const line = {
    level: 'info',
    msg: 'request',
    request_id: crypto.randomUUID(),
    method: 'POST',
    route: '/v1/rerank',
    status: 200,
    ms: 1,
    candidates: 100,
    k: null,
    mode: 'auto',
    user: 'history',
    cache: 'MISS',
    path: 'edge',
    model: manifest.version,
    degraded: [],
    fallback: [],
  }
  const headers = { 'Content-Type': 'application/json', 'X-Rerank-Path': 'edge', 'X-Model-Version': manifest.version }
  const answer = JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => ({ id: `i${i}`, score: i / 7 })) })
  return {
    request_body: await step(() => new Request('https://edge.bench/v1/rerank', { method: 'POST', body }).text()),
    response: await step(() => new Response(answer, { status: 200, headers }).arrayBuffer()),
    header_after: await step(() => new Response(null).headers.append('Server-Timing', 'total;dur=0')),
    log_line: await step(() => console.log(JSON.stringify(line))),
    request_id: await step(() => crypto.randomUUID()),
  }
}

async function headLoop(backend: string, l: number, h: number, n: number) {
  const head = headOf(backend)
  const f = randomFeatures(l, h)
  return { backend, l, h, per_call_ms: await timeBlocks(() => head.score(f), n, 100, 50) }
}

function peakLoop(n: number) {
  return { gflops: simdPeakRates((headOf('kernel') as KernelHead).instance().kernel, n) }
}

async function loadOnce(backend: string) {
  const t0 = performance.now()
  const head = backend === 'ort' ? new OrtHead(ortArtifacts) : new KernelHead(kernelArtifacts)
  await head.score(randomFeatures(100, 20))
  return { backend, first_score_ms: performance.now() - t0 }
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url)
    const q = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback)
    const backend = url.searchParams.get('backend') ?? 'kernel'
    try {
      switch (url.pathname) {
        case '/probe/app':
          return Response.json(await appLoop(await request.text(), env, ctx, q('n', 2000)))
        case '/probe/floor':
          return Response.json(await floorLoop(await request.text(), env, ctx, q('n', 2000)))
        case '/probe/baseline':
          return Response.json(await baselineLoop(env, ctx, q('n', 2000)))
        case '/probe/steps':
          return Response.json(await stepLoops(await request.text(), env, q('n', 2000)))
        case '/probe/platform':
          return Response.json(await platformLoops(await request.text(), q('n', 2000)))
        case '/probe/head':
          return Response.json(await headLoop(backend, q('l', 100), q('h', 20), q('n', 500)))
        case '/probe/peak':
          return Response.json(peakLoop(q('n', 20)))
        case '/probe/load':
          return Response.json(await loadOnce(backend))
      }
      return new Response('no such probe', { status: 404 })
    } catch (e) {
      return new Response(e instanceof Error ? (e.stack ?? e.message) : String(e), { status: 500 })
    }
  },
}
