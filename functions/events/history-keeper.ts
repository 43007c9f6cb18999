/**
 * Signed-in shoppers' stored histories, kept from their events: the KV record the edge reads for
 * a `user.id` (kv-keys.ts `hist/<version>/<hmac>`), newest first, each item once, at most
 * `limit` items. One write per user per consumer batch: KV takes one write a second per key.
 *
 * Anonymous sessions get no stored history: the page that holds the session also holds its
 * clicks, and can send them as `user.history` with the next search, at once and with nothing
 * stored on our side.
 */
import { historyKeyOf } from '../shared/kv-keys.ts'
import type { EventType } from '../shared/events-api.ts'
import { isInteraction, type InteractionRecord, type LogRecord } from './log-record.ts'

export interface HistoryKeeperOptions {
  /** HISTORY_LIMIT: items kept per user. */
  limit: number
  /** HISTORY_EVENT_TYPES: which events add to a history. */
  types: ReadonlySet<EventType>
}

/**
 * @example
 * const users = await new HistoryKeeper(env.EMBEDDINGS, { limit: 50, types: new Set(['click']) }).update(records)
 */
export class HistoryKeeper {
  constructor(
    private readonly kv: KVNamespace,
    private readonly options: HistoryKeeperOptions,
  ) {}

  /** Adds the records' interactions to their users' histories; resolves to the users written. */
  async update(records: readonly LogRecord[]): Promise<number> {
    const byKey = this.interactionsByHistoryKey(records)
    await Promise.all([...byKey].map(([key, events]) => this.extend(key, events)))
    return byKey.size
  }

  private interactionsByHistoryKey(records: readonly LogRecord[]): Map<string, InteractionRecord[]> {
    const byKey = new Map<string, InteractionRecord[]>()
    for (const r of records) {
      if (!isInteraction(r) || !this.options.types.has(r.type) || !r.user_key || !r.key_version) continue
      const key = historyKeyOf(r.key_version, r.user_key)
      const list = byKey.get(key)
      if (list) list.push(r)
      else byKey.set(key, [r])
    }
    return byKey
  }

  /** The batch's items, newest first, before what was stored; each item once. */
  private async extend(key: string, events: InteractionRecord[]): Promise<void> {
    const newest = events
      .slice()
      .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
      .map((e) => e.item_id)
    const stored = parseHistory(await this.kv.get(key))
    const merged = [...new Set([...newest, ...stored])].slice(0, this.options.limit)
    await this.kv.put(key, JSON.stringify(merged))
  }
}

/** A stored history, or none where the record is missing or unreadable (it is then replaced). */
function parseHistory(text: string | null): string[] {
  if (text === null) return []
  try {
    const v: unknown = JSON.parse(text)
    return Array.isArray(v) ? v.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}
