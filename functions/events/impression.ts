/**
 * Log records built from what the edge already resolved: an impression from a resolved request and
 * the answer it was served, an interaction from a validated event. Keyed ids only: the user's
 * hash from the resolution, the session's keyed here.
 */
import type { EdgeConfig } from '../edge/config.ts'
import type { KeyedUser, ResolvedRequest } from '../edge/resolved-request.ts'
import type { StorefrontEvent } from '../shared/events-api.ts'
import { sessionHash } from '../shared/kv-keys.ts'
import type { RerankResponse } from '../shared/rerank-api.ts'
import { LOG_SCHEMA, type ImpressionRecord, type InteractionRecord, type LoggedUser } from './log-record.ts'

/** Who a record is about, keyed; nulls where there is no proven user, no session, or no key. */
export async function loggedUser(
  config: EdgeConfig,
  user: KeyedUser | undefined,
  session: string | undefined,
): Promise<LoggedUser> {
  const secret = config.USER_KEY_SECRET
  const session_key =
    session !== undefined && secret ? await sessionHash({ secret, version: config.USER_KEY_VERSION }, session) : null
  return {
    user_key: user?.hash ?? null,
    key_version: user || session_key ? config.USER_KEY_VERSION : null,
    session_key,
  }
}

/** The answer as served: its id and time, and whether it came from the answer cache. */
export interface ServedAnswer {
  answerId: string
  /** Epoch ms. */
  at: number
  cache: 'hit' | 'miss'
  body: RerankResponse
}

export async function impressionOf(
  resolved: ResolvedRequest,
  answer: ServedAnswer,
  config: EdgeConfig,
): Promise<ImpressionRecord> {
  const { request } = resolved
  const time = new Date(answer.at).toISOString()
  return {
    schema: LOG_SCHEMA,
    event_id: answer.answerId,
    type: 'impression',
    time,
    received_at: time,
    ...(await loggedUser(config, resolved.user, request.user?.session)),
    release: answer.body.model,
    path: answer.body.path,
    cache: answer.cache,
    degraded: answer.body.degraded ?? [],
    query: request.query,
    candidates: request.candidates.map((c) => ({ id: c.id, score: c.score ?? null })),
    served: answer.body.items.map((i) => ({ id: i.id, score: i.score })),
    k: request.k ?? null,
    mode: request.mode,
    history:
      resolved.history === null ? 'none' : 'given' in resolved.history ? 'given' : resolved.user ? 'stored' : 'none',
    arm: null,
    propensities: null,
  }
}

export function interactionOf(event: StorefrontEvent, user: LoggedUser, receivedAt: string): InteractionRecord {
  return {
    schema: LOG_SCHEMA,
    event_id: event.event_id,
    type: event.type,
    time: new Date(event.time).toISOString(),
    received_at: receivedAt,
    ...user,
    answer_id: event.answer_id,
    item_id: event.item_id,
    position: event.position,
    quantity: event.quantity ?? null,
    value: event.value ?? null,
  }
}
