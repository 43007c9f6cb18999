/**
 * The SYNTHETIC world as a data set in the training format (docs/data.md): its catalog in
 * `npm run embed`'s format, and its sessions as the event log the edge writes — each session an
 * impression (the world's logging policy: the search engine's order, shown as retrieved), its clicks
 * and purchases as events at their displayed positions, and each user's fixed history as clicks
 * before the log starts. One session every ten seconds from `WORLD_LOG_START`, so the log's order is the
 * world's. Asked for more sessions than the world has, it goes round again (later in time, new ids):
 * a log of any size for measuring `logs:build`.
 *
 *   npm run world:log -- --out data/sets/world [--world data/worlds/default] [--sessions N]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { partitionOf } from '../../functions/events/log-archive.ts'
import {
  LOG_SCHEMA,
  type ImpressionRecord,
  type InteractionRecord,
  type LogRecord,
} from '../../functions/events/log-record.ts'
import { writeWorldCatalog } from '../embed/world-catalog.ts'
import { SESSION, SESSION_COLS, type World } from './world.ts'

/** When the world's log begins, and how far apart its sessions are. */
export const WORLD_LOG_START = Date.parse('2026-01-01T00:00:00Z')
const SESSION_GAP_MS = 10_000
/** The world's users' histories predate the log: their newest item an hour before it, then one an hour. */
const HISTORY_GAP_MS = 3_600_000
/** Events of a history have no answer: this id marks them (they build histories, never labels). */
export const HISTORY_ANSWER_ID = 'before-log'

export interface ExportedLog {
  sessions: number
  impressions: number
  events: number
  historyEvents: number
  objects: number
}

const iso = (ms: number) => new Date(ms).toISOString()

/** The user's fixed history as clicks before the log, newest first in the world → newest last in time. */
function historyEvents(world: World, user: number): InteractionRecord[] {
  const max = world.config.historyMax
  const out: InteractionRecord[] = []
  for (let j = 0; j < max; j++) {
    const item = world.users.history[user * max + j]
    if (item < 0) break
    const time = iso(WORLD_LOG_START - (j + 1) * HISTORY_GAP_MS)
    out.push(interaction(world, user, `h-${user}-${j}`, 'click', HISTORY_ANSWER_ID, item, 1, time))
  }
  return out
}

function interaction(
  world: World,
  user: number,
  eventId: string,
  type: 'click' | 'purchase',
  answerId: string,
  item: number,
  position: number,
  time: string,
): InteractionRecord {
  return {
    schema: LOG_SCHEMA,
    event_id: eventId,
    type,
    time,
    received_at: time,
    user_key: world.users.meta[user].id,
    key_version: 'world',
    session_key: null,
    answer_id: answerId,
    item_id: world.items.meta[item].id,
    position,
    quantity: type === 'purchase' ? 1 : null,
    value: type === 'purchase' ? world.items.meta[item].price : null,
  }
}

/** Session `s` as the edge would have logged it: its impression, then its clicks and purchases. */
function sessionRecords(world: World, n: number): LogRecord[] {
  const s = n % world.sessions.count
  const row = s * SESSION_COLS
  const user = world.sessions.table[row + SESSION.user]
  const query = world.sessions.table[row + SESSION.query]
  const at = WORLD_LOG_START + n * SESSION_GAP_MS
  const answerId = `w-${n}`
  const candidates: ImpressionRecord['candidates'] = []
  const events: LogRecord[] = []
  for (let r = world.sessions.offset[s], k = 0; r < world.sessions.offset[s + 1]; r++, k++) {
    const item = world.candidates.item[r]
    candidates.push({ id: world.items.meta[item].id, score: world.candidates.retrieval[r] })
    // 30 ms per position: every event of a list comes before the next session.
    const time = iso(at + (k + 1) * 30)
    if (world.candidates.click[r])
      events.push(interaction(world, user, `c-${n}-${k}`, 'click', answerId, item, k + 1, time))
    if (world.candidates.purchase[r])
      events.push(interaction(world, user, `p-${n}-${k}`, 'purchase', answerId, item, k + 1, time))
  }
  const impression: ImpressionRecord = {
    schema: LOG_SCHEMA,
    event_id: answerId,
    type: 'impression',
    time: iso(at),
    received_at: iso(at),
    user_key: world.users.meta[user].id,
    key_version: 'world',
    session_key: null,
    release: 'world-retrieval',
    path: 'passthrough',
    cache: 'miss',
    degraded: [],
    query: world.queries.meta[query].text,
    candidates,
    served: candidates,
    k: null,
    mode: 'auto',
    history: 'stored',
    arm: null,
    propensities: null,
  }
  return [impression, ...events]
}

/** Writes `<out>/catalog/` and `<out>/log/` (one object per hour, as the consumer writes them), an
 *  hour at a time: a log of any length passes through memory an hour's worth at once. */
export function exportWorldLog(
  worldDir: string,
  world: World,
  out: string,
  sessions = world.sessions.count,
): ExportedLog {
  writeWorldCatalog(worldDir, join(out, 'catalog'))
  const byHour = new Map<string, string[]>()
  let objects = 0
  /** Writes every hour before `before` (every hour, without it): `dt=…/hour=…` sorts as time does. */
  const flush = (before?: string) => {
    for (const [part, lines] of byHour) {
      if (before !== undefined && part >= before) continue
      const dir = join(out, 'log', 'log', part)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'world.ndjson.gz'), gzipSync(lines.join('\n') + '\n'))
      byHour.delete(part)
      objects++
    }
  }
  const add = (r: LogRecord) => {
    const part = partitionOf(r)
    let lines = byHour.get(part)
    if (!lines) byHour.set(part, (lines = []))
    lines.push(JSON.stringify(r))
  }
  let historyCount = 0
  for (let u = 0; u < world.users.count; u++)
    for (const e of historyEvents(world, u)) {
      add(e)
      historyCount++
    }
  flush()
  let events = 0
  for (let n = 0; n < sessions; n++) {
    const records = sessionRecords(world, n)
    records.forEach(add)
    events += records.length - 1
    // Sessions come in time order: every hour before this session's impression is complete.
    if (byHour.size > 1) flush(partitionOf(records[0]))
  }
  flush()
  return { sessions, impressions: sessions, events, historyEvents: historyCount, objects }
}
