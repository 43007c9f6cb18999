/**
 * The simulator's own record (`--record`), and the check of a pulled log against it: every answer
 * it received is one impression, every event it delivered one event, each exactly once.
 */
import { readFileSync } from 'node:fs'
import { logFiles, readLogFile } from '../logs/pull.ts'

export type RecordLine =
  | { kind: 'answer'; answer_id: string; session: number; user: string; path: string }
  | { kind: 'event'; event_id: string; type: string; answer_id: string; delivered: boolean }

/** The log records the simulator expects: its answers' ids and its delivered events' ids. */
export function expectedIds(recordFile: string): Set<string> {
  const ids = new Set<string>()
  for (const line of readFileSync(recordFile, 'utf8').split('\n')) {
    if (!line) continue
    const r = JSON.parse(line) as RecordLine
    if (r.kind === 'answer') ids.add(r.answer_id)
    else if (r.delivered) ids.add(r.event_id)
  }
  return ids
}

export interface Reconciliation {
  expected: number
  /** Expected ids found in the log, once or more. */
  found: number
  missing: number
  /** Extra copies of expected ids (a batch regrouped on redelivery, or a redelivered object under another name). */
  duplicates: number
  /** Found only under dead/ (every retry failed; kept, not lost). */
  dead: number
}

/** Checks a pulled log folder (logs:pull's `--out`) against the ids a run expects. */
export function reconcile(expected: Set<string>, logDir: string): Reconciliation {
  const copies = new Map<string, number>()
  const deadIds = new Set<string>()
  for (const file of logFiles(logDir))
    for (const r of readLogFile(file)) {
      if (!expected.has(r.event_id)) continue
      copies.set(r.event_id, (copies.get(r.event_id) ?? 0) + 1)
      if (file.includes('/dead/')) deadIds.add(r.event_id)
    }
  let duplicates = 0
  for (const n of copies.values()) duplicates += n - 1
  return {
    expected: expected.size,
    found: copies.size,
    missing: expected.size - copies.size,
    duplicates,
    dead: deadIds.size,
  }
}
