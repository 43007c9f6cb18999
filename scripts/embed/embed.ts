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
import {
  EMBEDDING_CODEC,
  encodeItemRecord,
  encodeQueryRecord,
  quantize,
} from '../../functions/shared/embedding-codec.ts'
import { itemKey, queryKey } from '../../functions/shared/kv-keys.ts'
import { metaEntry } from '../../functions/release/kv-entries.ts'
import type { ModelSpec } from '../../functions/release/manifest.ts'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { bulkParts } from '../wrangler-env.ts'
import { CatalogError, readCatalog, type Catalog, type CatalogWidths } from './catalog.ts'

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

/** The ONNX files of the release's item and query towers, and the widths they read. */
export interface Towers {
  item: string
  query: string
  widths: CatalogWidths
}

/** The towers among a release's models (the manifest's `models`, or the chain's export), under `dir`. */
export function releaseTowers(models: Record<string, ModelSpec>, dir: string): Towers {
  const spec = (name: string) => {
    const s = models[name]
    if (!s) throw new Error(`the release has no ${name}`)
    return s
  }
  const width = (model: string, input: string) => spec(model).inputs.find((i) => i.name === input)!.shape[1] as number
  return {
    item: join(dir, spec('item_tower').file),
    query: join(dir, spec('query_tower').file),
    widths: {
      text: width('item_tower', 'text'),
      image: width('item_tower', 'image'),
      query: width('query_tower', 'query'),
    },
  }
}

async function runTower(
  file: string,
  inputs: Record<string, { data: Float32Array; width: number }>,
  rows: number,
  batch: number,
  progress: (n: number) => void,
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(file)
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
  await session.release()
  return out
}

/**
 * A catalog's item and query vectors from the release's towers (onnxruntime-node, `batch` rows a
 * call). The chain runs the SYNTHETIC world through this too: the vectors the head trains on are
 * the ones a catalog's records carry.
 */
export async function embedVectors(
  catalog: Catalog,
  towers: Towers,
  batch = 512,
  progress: (n: number) => void = () => {},
): Promise<{ items: Float32Array[]; queries: Float32Array[] }> {
  const { widths } = towers
  const items = await runTower(
    towers.item,
    { text: { data: catalog.text, width: widths.text }, image: { data: catalog.image, width: widths.image } },
    catalog.ids.length,
    batch,
    progress,
  )
  const queries = await runTower(
    towers.query,
    { query: { data: catalog.query, width: widths.query } },
    catalog.queries.length,
    batch,
    progress,
  )
  return { items, queries }
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32)

/** The state of a previous output: its release, prefix and a digest of every record. */
interface EmbedState {
  release: string
  prefix: string
  records: Record<string, string>
}

function readPrevious(dir: string): EmbedState {
  const file = join(dir, 'state.json')
  if (!existsSync(file)) throw new CatalogError(`--previous ${dir}: no state.json (not an output of npm run embed)`)
  return JSON.parse(readFileSync(file, 'utf8')) as EmbedState
}

export async function embedCatalog(opts: EmbedOptions): Promise<EmbedSummary> {
  const started = performance.now()
  const models = opts.models ?? 'models'
  const batch = opts.batch ?? 512
  const manifest = readReleaseManifest(models)
  if (manifest.embedding.quantization.codec !== EMBEDDING_CODEC)
    throw new Error(`manifest codec ${manifest.embedding.quantization.codec}; this code writes ${EMBEDDING_CODEC}`)
  const towers = releaseTowers(manifest.models, models)
  const catalog: Catalog = readCatalog(opts.catalog, towers.widths)
  const previous = opts.previous ? readPrevious(opts.previous) : undefined
  const prefix = manifest.embedding.kv_prefix
  const total = catalog.ids.length + catalog.queries.length
  let done = 0
  const { items, queries } = await embedVectors(catalog, towers, batch, (n) => opts.progress?.((done += n), total))
  const dim = items[0].length
  if (dim !== manifest.embedding.dim)
    throw new Error(`the item tower writes ${dim} floats; manifest ${manifest.version} says ${manifest.embedding.dim}`)

  // ---- records, and what changed since the previous output ----------------------------------
  const records = new Map<string, string>()
  catalog.ids.forEach((id, i) =>
    records.set(itemKey(prefix, id), encodeItemRecord({ vector: quantize(items[i]), price: catalog.prices[i] })),
  )
  // Queries that normalize to one text share a key: the first wins.
  let distinctQueries = 0
  for (const [i, text] of catalog.queries.entries()) {
    const key = await queryKey(prefix, text)
    if (!records.has(key)) (records.set(key, encodeQueryRecord(quantize(queries[i]))), distinctQueries++)
  }
  const state: Record<string, string> = {}
  for (const [key, value] of records) state[key] = digest(value)
  // Under another prefix (a new release) everything is new, and nothing is deleted: the worker
  // still deployed reads the old prefix until the new one replaces it.
  const before = previous?.prefix === prefix ? previous.records : {}
  const changed = [...records].filter(([key]) => before[key] !== state[key])
  const removed = Object.keys(before).filter((key) => !(key in state))

  // ---- files: OUT.partial, then renamed -------------------------------------------------------
  const partial = `${opts.out}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  const meta = metaEntry({ manifest }, { items: catalog.ids.length, queries: distinctQueries }, undefined, {
    synthetic: false,
    catalog: digest(Object.values(state).join()),
  })
  const files: string[] = []
  for (const part of bulkParts([...changed.map(([key, value]) => ({ key, value })), meta])) {
    const name = `put-${String(files.length).padStart(4, '0')}.json`
    writeFileSync(join(partial, name), JSON.stringify(part))
    files.push(name)
  }
  if (removed.length) {
    writeFileSync(join(partial, 'delete.json'), JSON.stringify(removed))
    files.push('delete.json')
  }
  const next: EmbedState = { release: manifest.version, prefix, records: state }
  writeFileSync(join(partial, 'state.json'), JSON.stringify(next))
  rmSync(opts.out, { recursive: true, force: true })
  renameSync(partial, opts.out)
  return {
    items: catalog.ids.length,
    queries: distinctQueries,
    put: changed.length,
    deleted: removed.length,
    unchanged: records.size - changed.length,
    files,
    seconds: (performance.now() - started) / 1000,
  }
}
