/**
 * `logs:pull`: the event log out of R2 into a folder the training side reads, object for object
 * (`log/dt=…/hour=…/<digest>.ndjson.gz`, and `dead/…` beside it), incrementally: an object already
 * there with the same size is not fetched again. Then every pulled record is read once and counted —
 * by type, and how many event ids appear more than once (a batch Queues regrouped on redelivery)
 * — into `<out>/pull.json`, so "sent = stored = exported" can be checked.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { DEAD_PREFIX, LOG_PREFIX } from '../../functions/events/log-archive.ts'
import type { LogRecord } from '../../functions/events/log-record.ts'
import type { LogSource } from './log-source.ts'

export interface PullSummary {
  /** Objects fetched now, and those already there. */
  fetched: number
  kept: number
  /** Every object in the folder after the pull, under log/ and dead/. */
  objects: { log: number; dead: number }
  /** Records in those objects, by type; `distinct`: unique event ids across log/ and dead/. */
  records: { total: number; distinct: number; duplicates: number; dead: number; byType: Record<string, number> }
}

/** Copies what `source` holds that `out` lacks; answers what the folder now holds. */
export async function pullLog(source: LogSource, out: string, onObject?: (key: string) => void): Promise<PullSummary> {
  let fetched = 0
  let kept = 0
  for (const prefix of [LOG_PREFIX, DEAD_PREFIX])
    for await (const o of source.list(prefix)) {
      const path = join(out, o.key)
      if (existsSync(path) && statSync(path).size === o.size) {
        kept++
        continue
      }
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, await source.get(o.key))
      fetched++
      onObject?.(o.key)
    }
  const summary: PullSummary = { fetched, kept, ...countLog(out) }
  writeFileSync(join(out, 'pull.json'), JSON.stringify(summary, null, 2) + '\n')
  return summary
}

/** Every `.ndjson.gz` under `dir`, recursively. */
export function logFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ndjson.gz'))
    .map((f) => join(dir, f))
    .sort()
}

/** The records of one pulled object. */
export function readLogFile(path: string): LogRecord[] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogRecord)
}

function countLog(out: string): Pick<PullSummary, 'objects' | 'records'> {
  const seen = new Set<string>()
  const records: PullSummary['records'] = { total: 0, distinct: 0, duplicates: 0, dead: 0, byType: {} }
  const objects = { log: 0, dead: 0 }
  for (const file of logFiles(out)) {
    const dead = relative(out, file).startsWith(DEAD_PREFIX)
    objects[dead ? 'dead' : 'log']++
    for (const r of readLogFile(file)) {
      records.total++
      if (dead) records.dead++
      if (seen.has(r.event_id)) {
        records.duplicates++
        continue
      }
      seen.add(r.event_id)
      records.byType[r.type] = (records.byType[r.type] ?? 0) + 1
    }
  }
  records.distinct = seen.size
  return { objects, records }
}
