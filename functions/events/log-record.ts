/**
 * One line of the event log (docs/events.md): the edge's impressions and the storefront's events,
 * in one stream, each with a unique `event_id` and a `type`. Columns are the same in every line of
 * a type (absent values are null), so DuckDB, Spark or BigQuery read the NDJSON with one schema.
 * Nothing here names a person: users and sessions appear only keyed (HMAC under USER_KEY_SECRET).
 */
import type { EventType } from '../shared/events-api.ts'
import type { RerankPath } from '../shared/rerank-api.ts'

/** Bumped when a column changes meaning; readers refuse versions they do not know. */
export const LOG_SCHEMA = 1

/** Who a record is about: keyed ids only, or nulls. */
export interface LoggedUser {
  /** HMAC of a proven user id (kv-keys.ts `userHash`): their stored history's key. */
  user_key: string | null
  /** Which USER_KEY_SECRET keyed it (`v1`, …). */
  key_version: string | null
  /** HMAC of the page's session id: ties an anonymous visit's impressions to its events. */
  session_key: string | null
}

interface RecordBase extends LoggedUser {
  schema: typeof LOG_SCHEMA
  /** Unique in the log: an impression's is its answer id; an event's is the page's. */
  event_id: string
  /** When it happened (ISO 8601): the answer's time, or the time the page reported. */
  time: string
  /** When the edge took it (ISO 8601, UTC): the log is partitioned by this hour. */
  received_at: string
}

/** A re-ranked list as a shopper was shown it. */
export interface ImpressionRecord extends RecordBase {
  type: 'impression'
  /** The release that ranked it (`X-Model-Version`). */
  release: string
  path: RerankPath
  /** Served from the answer cache (its own answer id all the same). */
  cache: 'hit' | 'miss'
  degraded: string[]
  /** Normalized query text. */
  query: string
  /** In the storefront's order, with its retrieval scores (null where none was sent). */
  candidates: { id: string; score: number | null }[]
  /** What was shown, top first: position p is `served[p - 1]`. */
  served: { id: string; score: number | null }[]
  k: number | null
  mode: string
  /** Where the ranking's history came from. */
  history: 'given' | 'stored' | 'none'
  /** The experiment arm that served it (a later issue); null outside experiments. */
  arm: string | null
  /** The logging policy's probability of showing each served item where it was; null: deterministic. */
  propensities: number[] | null
}

/** A storefront event after a re-ranked answer. */
export interface InteractionRecord extends RecordBase {
  type: EventType
  answer_id: string
  item_id: string
  /** Where the item was shown, 1 for the top. */
  position: number
  quantity: number | null
  value: number | null
}

export type LogRecord = ImpressionRecord | InteractionRecord

export const isInteraction = (r: LogRecord): r is InteractionRecord => r.type !== 'impression'
