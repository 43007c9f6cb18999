/**
 * A catalog → the KV records the edge reads: the release's item and query towers
 * (onnxruntime-node, in batches) → int8 with the shared codec → `wrangler kv bulk put` files.
 * Against a previous output it writes only what changed, and the removed keys for
 * `wrangler kv bulk delete`. Everything goes to OUT.partial first and is renamed to OUT when
 * complete, so nothing half-written is ever uploaded.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { encodeItemRecord, encodeQueryRecord, quantize } from '../../functions/shared/embedding-codec.ts'
import { itemKey, normalizeQuery, queryKey } from '../../functions/shared/kv-keys.ts'
import { modelSpec, type Manifest } from '../../functions/shared/manifest.ts'
import { metaEntry } from '../kv/entries.ts'
import { KV_BULK_PAIRS } from '../wrangler-env.ts'
import { readCatalog, type Catalog } from './catalog.ts'

export interface EmbedOptions {
  catalog: string
  out: string
  /** A previous output of this command: only changed records are written, removed ones deleted. */
  previous?: string
  models?: string
  batch?: number
  progress?: (done: number, total: number) => void
}

export interface EmbedSummary {
  items: number
  queries: number
  put: number
  deleted: number
  unchanged: number
  files: string[]
  seconds: number
}

/** The first tensor width of a model's input, from the manifest. */
const width = (manifest: Manifest, model: string, input: string) =>
  modelSpec(manifest, model).inputs.find((i) => i.name === input)!.shape[1] as number

async function runTower(
  session: ort.InferenceSession,
  inputs: Record<string, { data: Float32Array; width: number }>,
  rows: number,
  batch: number,
  progress: (n: number) => void,
): Promise<Float32Array[]> {
  const out: Float32Array[] = []
  for (let from = 0; from < rows; from += batch) {
    const n = Math.min(batch, rows - from)
    const feeds: Record<string, ort.Tensor> = {}
    for (const [name, { data, width: w }] of Object.entries(inputs))
      feeds[name] = new ort.Tensor('float32', data.subarray(from * w, (from + n) * w), [n, w])
    const result = await session.run(feeds)
    const emb = result[session.outputNames[0]]
    const dim = emb.dims[1] as number
    const data = emb.data as Float32Array
    for (let i = 0; i < n; i++) out.push(data.slice(i * dim, (i + 1) * dim))
    progress(n)
  }
  return out
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32)

export async function embedCatalog(opts: EmbedOptions): Promise<EmbedSummary> {
  const started = performance.now()
  const models = opts.models ?? 'models'
  const batch = opts.batch ?? 512
  const manifest = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')) as Manifest
  const catalog: Catalog = readCatalog(opts.catalog, {
    text: width(manifest, 'item_tower', 'text'),
    image: width(manifest, 'item_tower', 'image'),
    query: width(manifest, 'query_tower', 'query'),
  })
  const prefix = manifest.embedding.kv_prefix
  const total = catalog.ids.length + catalog.queries.length
  let done = 0
  const tick = (n: number) => opts.progress?.((done += n), total)

  // ---- the towers ---------------------------------------------------------------------------
  const itemTower = await ort.InferenceSession.create(join(models, modelSpec(manifest, 'item_tower').file))
  const items = await runTower(
    itemTower,
    {
      text: { data: catalog.text, width: width(manifest, 'item_tower', 'text') },
      image: { data: catalog.image, width: width(manifest, 'item_tower', 'image') },
    },
    catalog.ids.length,
    batch,
    tick,
  )
  await itemTower.release()
  const queryTower = await ort.InferenceSession.create(join(models, modelSpec(manifest, 'query_tower').file))
  const queries = await runTower(
    queryTower,
    { query: { data: catalog.query, width: width(manifest, 'query_tower', 'query') } },
    catalog.queries.length,
    batch,
    tick,
  )
  await queryTower.release()

  // ---- records, and what changed since the previous output ----------------------------------
  const records = new Map<string, string>()
  catalog.ids.forEach((id, i) =>
    records.set(itemKey(prefix, id), encodeItemRecord({ vector: quantize(items[i]), price: catalog.prices[i] })),
  )
  // Queries that normalize to one text share a key: the first wins.
  for (const [i, text] of catalog.queries.entries()) {
    const key = await queryKey(prefix, text)
    if (!records.has(key)) records.set(key, encodeQueryRecord(quantize(queries[i])))
  }
  const state: Record<string, string> = {}
  for (const [key, value] of records) state[key] = digest(value)
  const before: Record<string, string> =
    opts.previous && existsSync(join(opts.previous, 'state.json'))
      ? JSON.parse(readFileSync(join(opts.previous, 'state.json'), 'utf8')).records
      : {}
  if (opts.previous && !existsSync(join(opts.previous, 'state.json')))
    throw new Error(`--previous ${opts.previous}: no state.json (not an output of npm run embed)`)
  const changed = [...records].filter(([key]) => before[key] !== state[key])
  const removed = Object.keys(before).filter((key) => !(key in state))

  // ---- files: OUT.partial, then renamed -------------------------------------------------------
  const partial = `${opts.out}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  const meta = metaEntry({ manifest }, { items: catalog.ids.length, queries: catalog.queries.length }, undefined, {
    synthetic: false,
    catalog: digest(Object.values(state).join()),
  })
  // The meta record last of all: its presence says the prefix is complete.
  const pairs = [...changed.map(([key, value]) => ({ key, value })), meta]
  const files: string[] = []
  for (let i = 0; i < pairs.length; i += KV_BULK_PAIRS) {
    const name = `put-${String(files.length).padStart(4, '0')}.json`
    writeFileSync(join(partial, name), JSON.stringify(pairs.slice(i, i + KV_BULK_PAIRS)))
    files.push(name)
  }
  if (removed.length) {
    writeFileSync(join(partial, 'delete.json'), JSON.stringify(removed))
    files.push('delete.json')
  }
  writeFileSync(join(partial, 'state.json'), JSON.stringify({ release: manifest.version, prefix, records: state }))
  rmSync(opts.out, { recursive: true, force: true })
  renameSync(partial, opts.out)
  return {
    items: catalog.ids.length,
    queries: new Set(catalog.queries.map(normalizeQuery)).size,
    put: changed.length,
    deleted: removed.length,
    unchanged: records.size - changed.length,
    files,
    seconds: (performance.now() - started) / 1000,
  }
}
