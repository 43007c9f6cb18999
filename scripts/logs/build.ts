/**
 * `logs:build`: an event log (as `logs:pull` writes it) and a catalog (`npm run embed`'s format)
 * into the training arrays `models/` reads (docs/data.md), on DuckDB: SQL over the gzip NDJSON,
 * window functions for deduplication and histories, spilling to disk when the log outgrows memory.
 *
 * Each impression becomes one list: the items in the order they were shown (positions 1…), the
 * storefront's retrieval scores, the click and purchase labels its events give, and the user's
 * history as of the impression — their earlier interactions only, never later ones. Lists are split
 * by time. What cannot be used is dropped and counted by reason.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { writeNpy } from '../../functions/release/npy.ts'
import { LOG_SCHEMA } from '../../functions/events/log-record.ts'
import { normalizeQuery } from '../../functions/shared/query-text.ts'
import type { Catalog } from '../embed/catalog.ts'
import { logFiles } from './pull.ts'

/** The history the head reads, at most. */
export const HISTORY_MAX = 50

export interface BuildOptions {
  log: string
  catalog: Catalog
  out: string
  /** Shares of the lists, oldest first, for train and valid; test takes the rest. */
  split?: { train: number; valid: number }
  /** Which interactions make up a history. */
  historyTypes?: string[]
  /** Where DuckDB may spill (default: inside `out`). */
  tempDir?: string
  /** DuckDB's memory limit (default 4GB). */
  memoryLimit?: string
}

/** Rows dropped, by reason. */
export type Dropped = Record<string, number>

export interface BuildSummary {
  kind: 'edge-rerank log data set'
  version: 1
  rows: { read: number; duplicates: number; impressions: number; interactions: number }
  /** Impressions and interactions that could not be used, by reason. */
  dropped: Dropped
  lists: { train: number; valid: number; test: number }
  candidates: number
  labels: { clicks: number; purchases: number }
  time: { from: string; to: string; valid_from: string; test_from: string }
  source: { files: number; bytes: number; fingerprint: string }
  counts: { items: number; queries: number; sessions: number; candidates: number; users: number }
  files: Record<string, { dtype: string; shape: number[] }>
  seconds: number
}

export class LogBuildError extends Error {
  override name = 'LogBuildError'
}

const COLUMNS = `{
  schema: 'INTEGER', event_id: 'VARCHAR', type: 'VARCHAR', time: 'TIMESTAMPTZ', received_at: 'TIMESTAMPTZ',
  user_key: 'VARCHAR', key_version: 'VARCHAR', session_key: 'VARCHAR', query: 'VARCHAR',
  candidates: 'STRUCT(id VARCHAR, score DOUBLE)[]', served: 'STRUCT(id VARCHAR, score DOUBLE)[]',
  answer_id: 'VARCHAR', item_id: 'VARCHAR', position: 'INTEGER'
}`

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`

async function count(c: DuckDBConnection, sql: string): Promise<number> {
  return Number((await c.runAndReadAll(sql)).getRowsJS()[0][0])
}

/** Item ids and query texts as row numbers, from the catalog. */
async function loadCatalogKeys(c: DuckDBConnection, catalog: Catalog) {
  await c.run('CREATE TABLE items (id VARCHAR PRIMARY KEY, row INTEGER)')
  await c.run('CREATE TABLE queries (text VARCHAR PRIMARY KEY, row INTEGER)')
  const items = await c.createAppender('items')
  catalog.ids.forEach((id, i) => (items.appendVarchar(id), items.appendInteger(i), items.endRow()))
  items.closeSync()
  const queries = await c.createAppender('queries')
  // As the edge logs them: normalized.
  const seen = new Set<string>()
  catalog.queries.forEach((text, i) => {
    const key = normalizeQuery(text)
    if (seen.has(key)) return
    seen.add(key)
    queries.appendVarchar(key)
    queries.appendInteger(i)
    queries.endRow()
  })
  queries.closeSync()
}

/** Every record once (by event id, the first taken), of a schema this reader knows. */
async function readRecords(c: DuckDBConnection, files: string[], dropped: Dropped) {
  const list = `[${files.map(sqlString).join(', ')}]`
  try {
    await c.run(`CREATE TABLE raw AS SELECT * FROM read_json(${list}, format = 'newline_delimited',
      compression = 'gzip', columns = ${COLUMNS}, filename = true)`)
  } catch (e) {
    throw new LogBuildError(`the log could not be read: ${e instanceof Error ? e.message : String(e)}`)
  }
  const read = await count(c, 'SELECT count(*) FROM raw')
  const unknownSchema = await count(c, `SELECT count(*) FROM raw WHERE schema IS DISTINCT FROM ${LOG_SCHEMA}`)
  if (unknownSchema) dropped['unknown schema version'] = unknownSchema
  await c.run(`CREATE TABLE rec AS SELECT * EXCLUDE (filename) FROM raw WHERE schema = ${LOG_SCHEMA}
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at, filename) = 1`)
  const kept = await count(c, 'SELECT count(*) FROM rec')
  return { read, duplicates: read - unknownSchema - kept }
}

/** Impressions whose query and every shown item the catalog holds; the rest dropped by reason. */
async function usableImpressions(c: DuckDBConnection, dropped: Dropped) {
  await c.run(`CREATE TABLE imp_all AS
    SELECT event_id, time, coalesce(user_key, 'session:' || session_key) AS who, query, served, candidates,
      (SELECT row FROM queries q WHERE q.text = rec.query) AS query_row,
      len(served) AS shown,
      (SELECT count(*) FROM unnest(served) AS s(x) WHERE x.id NOT IN (SELECT id FROM items)) AS unknown_items
    FROM rec WHERE type = 'impression'`)
  const reasons: [string, string][] = [
    ['impression shows nothing', 'shown = 0 OR shown IS NULL'],
    ['impression query not in the catalog', 'query_row IS NULL'],
    ['impression shows an item not in the catalog', 'unknown_items > 0'],
  ]
  let excluded = 'false'
  for (const [reason, cond] of reasons) {
    const n = await count(c, `SELECT count(*) FROM imp_all WHERE NOT (${excluded}) AND (${cond})`)
    if (n) dropped[reason] = n
    excluded += ` OR (${cond})`
  }
  await c.run(`CREATE TABLE imp AS SELECT * FROM imp_all WHERE NOT (${excluded})`)
}

/** Interactions, and which of them label a shown item of a known impression. */
async function usableInteractions(c: DuckDBConnection, dropped: Dropped) {
  await c.run(`CREATE TABLE inter AS SELECT event_id, type, time, coalesce(user_key, 'session:' || session_key) AS who,
      answer_id, item_id FROM rec WHERE type IN ('click', 'add_to_cart', 'purchase')`)
  const unknownItem = await count(c, 'SELECT count(*) FROM inter WHERE item_id NOT IN (SELECT id FROM items)')
  if (unknownItem) dropped['interaction item not in the catalog'] = unknownItem
  // Events can outrun their impression and histories predate the log: these build histories only.
  const noAnswer = await count(c, 'SELECT count(*) FROM inter WHERE answer_id NOT IN (SELECT event_id FROM imp)')
  if (noAnswer) dropped['interaction without a usable impression (history only)'] = noAnswer
  await c.run(`CREATE TABLE shown AS SELECT i.event_id AS imp_id, s.pos, s.x.id AS item_id, s.x.score AS served_score
    FROM imp i, unnest(i.served) WITH ORDINALITY AS s(x, pos)`)
  const notShown = await count(
    c,
    `SELECT count(*) FROM inter t WHERE t.answer_id IN (SELECT event_id FROM imp)
      AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.imp_id = t.answer_id AND s.item_id = t.item_id)`,
  )
  if (notShown) dropped['interaction on an item its answer did not show'] = notShown
  await c.run(`CREATE TABLE labels AS SELECT answer_id AS imp_id, item_id, bool_or(type = 'purchase') AS purchase
    FROM inter GROUP BY answer_id, item_id`)
}

/** Each impression's history: the user's earlier interactions, distinct items, newest first. */
async function histories(c: DuckDBConnection, types: string[]) {
  await c.run(`CREATE TABLE hist AS
    SELECT i.event_id AS imp_id, it.row,
      (row_number() OVER (PARTITION BY i.event_id ORDER BY max(t.time) DESC, t.item_id) - 1)::INTEGER AS rank
    FROM imp i JOIN inter t ON t.who = i.who AND t.time < i.time JOIN items it ON it.id = t.item_id
    WHERE t.type IN (${types.map(sqlString).join(', ')})
    GROUP BY i.event_id, t.item_id, it.row
    QUALIFY rank < ${HISTORY_MAX}`)
}

/** The lists, oldest first: their index, time, user and query row, and how many items each showed. */
async function orderLists(c: DuckDBConnection) {
  await c.run(`CREATE TABLE ordered AS
    SELECT (row_number() OVER (ORDER BY time, event_id) - 1)::INTEGER AS idx, event_id, time, who, query_row, shown::INTEGER AS shown
    FROM imp`)
  await c.run(`CREATE TABLE cand AS SELECT i.event_id AS imp_id, x.id AS item_id, any_value(x.score) AS score
    FROM imp i, unnest(i.candidates) AS u(x) GROUP BY ALL`)
}

/** Calls `row` for every row of `sql`, chunk by chunk: the result never sits in memory whole. */
async function eachRow(c: DuckDBConnection, sql: string, row: (values: unknown[][], i: number) => void) {
  const result = await c.stream(sql)
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const columns = Array.from({ length: chunk.columnCount }, (_, k) => chunk!.getColumnValues(k))
    for (let i = 0; i < chunk.rowCount; i++) row(columns, i)
  }
}

/** The log's files, their bytes and a fingerprint of (path, size) pairs: what the data set was built from. */
function sourceOf(log: string, files: string[]) {
  const hash = createHash('sha256')
  let bytes = 0
  for (const f of files) {
    const size = statSync(f).size
    bytes += size
    hash.update(`${relative(log, f)}\t${size}\n`)
  }
  return { files: files.length, bytes, fingerprint: hash.digest('hex').slice(0, 16) }
}

export async function buildFromLog(opts: BuildOptions): Promise<BuildSummary> {
  const started = performance.now()
  const files = logFiles(opts.log).filter((f) => !relative(opts.log, f).split('/').includes('dead'))
  if (!files.length) throw new LogBuildError(`${opts.log}: no .ndjson.gz objects (logs:pull writes them)`)
  mkdirSync(opts.out, { recursive: true })
  // A bounded memory: past it, DuckDB spills to the temporary folder.
  const db = await DuckDBInstance.create(':memory:', {
    temp_directory: opts.tempDir ?? join(opts.out, '.duckdb-tmp'),
    memory_limit: opts.memoryLimit ?? '4GB',
  })
  const c = await db.connect()
  const dropped: Dropped = {}
  try {
    await loadCatalogKeys(c, opts.catalog)
    const { read, duplicates } = await readRecords(c, files, dropped)
    const impressions = await count(c, "SELECT count(*) FROM rec WHERE type = 'impression'")
    const interactions = await count(c, "SELECT count(*) FROM rec WHERE type IN ('click', 'add_to_cart', 'purchase')")
    if (!impressions) throw new LogBuildError(`${opts.log}: the log holds no impressions`)
    if (!interactions) throw new LogBuildError(`${opts.log}: the log holds no clicks, add-to-carts or purchases`)
    await usableImpressions(c, dropped)
    await usableInteractions(c, dropped)
    await histories(c, opts.historyTypes ?? ['click', 'add_to_cart', 'purchase'])
    await orderLists(c)
    if (!(await count(c, 'SELECT count(*) FROM ordered')))
      throw new LogBuildError(`${opts.log}: no impression is usable (${JSON.stringify(dropped)})`)
    const written = await writeArrays(c, opts)
    const summary: BuildSummary = {
      kind: 'edge-rerank log data set',
      version: 1,
      rows: { read, duplicates, impressions, interactions },
      dropped,
      ...written,
      source: sourceOf(opts.log, files),
      seconds: (performance.now() - started) / 1000,
    }
    writeFileSync(join(opts.out, 'manifest.json'), JSON.stringify(summary, null, 2) + '\n')
    return summary
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

/** The arrays, in the world's file names and layout; one history row per list (as of its time). */
async function writeArrays(c: DuckDBConnection, opts: BuildOptions) {
  const { catalog, out } = opts
  const split = opts.split ?? { train: 0.8, valid: 0.1 }
  const S = await count(c, 'SELECT count(*) FROM ordered')
  const C = await count(c, 'SELECT sum(shown) FROM ordered')
  const nTrain = Math.floor(S * split.train)
  const nValid = Math.floor(S * split.valid)
  const session = new Int32Array(S * 4)
  const offset = new Int32Array(S + 1)
  const times = new Float64Array(S)
  const users = new Set<string>()
  let r = 0
  await eachRow(c, 'SELECT idx, epoch_ms(time)::DOUBLE, who, query_row, shown FROM ordered ORDER BY idx', (v, i) => {
    const s = v[0][i] as number
    // The list's own history row: its user column points at it.
    session.set([s, v[3][i] as number, s < nTrain ? 0 : s < nTrain + nValid ? 1 : 2, v[4][i] as number], s * 4)
    offset[s] = r
    r += v[4][i] as number
    times[s] = v[1][i] as number
    users.add(v[2][i] as string)
  })
  offset[S] = r
  const candItem = new Int32Array(C)
  const candRetrieval = new Float32Array(C)
  const candClick = new Uint8Array(C)
  const candPurchase = new Uint8Array(C)
  let k = 0
  await eachRow(
    c,
    `SELECT it.row, coalesce(cd.score, 'NaN'::DOUBLE), l.item_id IS NOT NULL, coalesce(l.purchase, false)
    FROM ordered o JOIN shown s ON s.imp_id = o.event_id JOIN items it ON it.id = s.item_id
    LEFT JOIN cand cd ON cd.imp_id = o.event_id AND cd.item_id = s.item_id
    LEFT JOIN labels l ON l.imp_id = o.event_id AND l.item_id = s.item_id
    ORDER BY o.idx, s.pos`,
    (v, i) => {
      candItem[k] = v[0][i] as number
      candRetrieval[k] = v[1][i] as number
      candClick[k] = v[2][i] ? 1 : 0
      candPurchase[k] = v[3][i] ? 1 : 0
      k++
    },
  )
  const history = new Int32Array(S * HISTORY_MAX).fill(-1)
  await eachRow(
    c,
    'SELECT o.idx, h.rank, h.row FROM ordered o JOIN hist h ON h.imp_id = o.event_id',
    (v, i) => (history[(v[0][i] as number) * HISTORY_MAX + (v[1][i] as number)] = v[2][i] as number),
  )
  const N = catalog.ids.length
  const Q = catalog.queries.length
  const arrays: [string, Int32Array | Float32Array | Uint8Array, number[]][] = [
    ['item_text_emb', catalog.text, [N, catalog.text.length / N]],
    ['item_image_emb', catalog.image, [N, catalog.image.length / N]],
    ['item_price', catalog.prices, [N]],
    ['query_emb', catalog.query, [Q, catalog.query.length / Math.max(1, Q)]],
    ['session', session, [S, 4]],
    ['session_offset', offset, [S + 1]],
    ['cand_item', candItem, [C]],
    ['cand_retrieval', candRetrieval, [C]],
    ['cand_click', candClick, [C]],
    ['cand_purchase', candPurchase, [C]],
    ['user_history', history, [S, HISTORY_MAX]],
  ]
  const files: BuildSummary['files'] = {}
  for (const [name, data, shape] of arrays) {
    writeNpy(join(out, `${name}.npy`), data, shape)
    files[name] = { dtype: data.constructor.name, shape }
  }
  writeFileSync(join(out, 'items.jsonl'), catalog.ids.map((id) => JSON.stringify({ id })).join('\n') + '\n')
  writeFileSync(join(out, 'queries.jsonl'), catalog.queries.map((text) => JSON.stringify({ text })).join('\n') + '\n')
  const iso = (ms: number) => new Date(ms).toISOString()
  const sum = (a: Uint8Array) => a.reduce((n, x) => n + x, 0)
  return {
    lists: { train: nTrain, valid: nValid, test: S - nTrain - nValid },
    candidates: C,
    labels: { clicks: sum(candClick), purchases: sum(candPurchase) },
    time: {
      from: iso(times[0]),
      to: iso(times[S - 1]),
      valid_from: iso(times[Math.min(nTrain, S - 1)]),
      test_from: iso(times[Math.min(nTrain + nValid, S - 1)]),
    },
    counts: { items: N, queries: Q, sessions: S, candidates: C, users: users.size },
    files,
  }
}
