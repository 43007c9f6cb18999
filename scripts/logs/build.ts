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
  await c.run(`CREATE TABLE labels AS SELECT answer_id AS imp_id, item_id,
      true AS click, bool_or(type = 'purchase') AS purchase
    FROM inter GROUP BY ALL`)
}

/** Each impression's history: the user's earlier interactions, distinct items, newest first. */
async function histories(c: DuckDBConnection, types: string[]) {
  await c.run(`CREATE TABLE hist AS
    WITH prior AS (
      SELECT i.event_id AS imp_id, t.item_id, max(t.time) AS last_at
      FROM imp i JOIN inter t ON t.who = i.who AND t.time < i.time
      WHERE t.type IN (${types.map(sqlString).join(', ')}) AND t.item_id IN (SELECT id FROM items)
      GROUP BY i.event_id, t.item_id
      QUALIFY row_number() OVER (PARTITION BY i.event_id ORDER BY max(t.time) DESC, t.item_id) <= ${HISTORY_MAX})
    SELECT p.imp_id, list(it.row ORDER BY p.last_at DESC, p.item_id) AS rows
    FROM prior p JOIN items it ON it.id = p.item_id GROUP BY p.imp_id`)
}

/** The lists, oldest first: query row, items shown, retrieval scores, labels, history rows. */
async function readLists(c: DuckDBConnection) {
  const reader = await c.runAndReadAll(`
    SELECT i.event_id, epoch_ms(i.time)::DOUBLE AS ms, i.who, i.query_row,
      list(it.row ORDER BY s.pos) AS items,
      list(coalesce((SELECT x.score FROM unnest(i.candidates) AS u(x) WHERE x.id = s.item_id LIMIT 1), 'NaN'::DOUBLE) ORDER BY s.pos) AS retrieval,
      list(coalesce(l.click, false) ORDER BY s.pos) AS click,
      list(coalesce(l.purchase, false) ORDER BY s.pos) AS purchase,
      coalesce(any_value(h.rows), []) AS history
    FROM imp i JOIN shown s ON s.imp_id = i.event_id JOIN items it ON it.id = s.item_id
    LEFT JOIN labels l ON l.imp_id = i.event_id AND l.item_id = s.item_id
    LEFT JOIN hist h ON h.imp_id = i.event_id
    GROUP BY i.event_id, i.time, i.who, i.query_row
    ORDER BY i.time, i.event_id`)
  return reader.getRowObjectsJS() as unknown as {
    event_id: string
    ms: number
    who: string
    query_row: number
    items: number[]
    retrieval: number[]
    click: boolean[]
    purchase: boolean[]
    history: number[]
  }[]
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
  const db = await DuckDBInstance.create(':memory:', { temp_directory: opts.tempDir ?? join(opts.out, '.duckdb-tmp') })
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
    const lists = await readLists(c)
    if (!lists.length) throw new LogBuildError(`${opts.log}: no impression is usable (${JSON.stringify(dropped)})`)
    const written = writeArrays(opts, lists)
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

type List = Awaited<ReturnType<typeof readLists>>[number]

/** The arrays, in the world's file names and layout; one history row per list (as of its time). */
function writeArrays(opts: BuildOptions, lists: List[]) {
  const { catalog, out } = opts
  const split = opts.split ?? { train: 0.8, valid: 0.1 }
  const S = lists.length
  const nTrain = Math.floor(S * split.train)
  const nValid = Math.floor(S * split.valid)
  const C = lists.reduce((n, l) => n + l.items.length, 0)
  const session = new Int32Array(S * 4)
  const offset = new Int32Array(S + 1)
  const candItem = new Int32Array(C)
  const candRetrieval = new Float32Array(C)
  const candClick = new Uint8Array(C)
  const candPurchase = new Uint8Array(C)
  const history = new Int32Array(S * HISTORY_MAX).fill(-1)
  let r = 0
  let clicks = 0
  let purchases = 0
  lists.forEach((l, s) => {
    // The list's own history row: its user column points at it.
    session.set([s, l.query_row, s < nTrain ? 0 : s < nTrain + nValid ? 1 : 2, l.items.length], s * 4)
    offset[s] = r
    l.items.forEach((item, k) => {
      candItem[r] = item
      candRetrieval[r] = l.retrieval[k]
      candClick[r] = l.click[k] || l.purchase[k] ? 1 : 0
      candPurchase[r] = l.purchase[k] ? 1 : 0
      clicks += candClick[r]
      purchases += candPurchase[r]
      r++
    })
    history.set(l.history.slice(0, HISTORY_MAX), s * HISTORY_MAX)
  })
  offset[S] = r
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
  return {
    lists: { train: nTrain, valid: nValid, test: S - nTrain - nValid },
    candidates: C,
    labels: { clicks, purchases },
    time: {
      from: iso(lists[0].ms),
      to: iso(lists[S - 1].ms),
      valid_from: iso(lists[Math.min(nTrain, S - 1)].ms),
      test_from: iso(lists[Math.min(nTrain + nValid, S - 1)].ms),
    },
    counts: { items: N, queries: Q, sessions: S, candidates: C, users: new Set(lists.map((l) => l.who)).size },
    files,
  }
}
