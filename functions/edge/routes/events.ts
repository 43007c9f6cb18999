/**
 * `POST /v1/events` (docs/events.md): a page's clicks, add-to-carts and purchases after a re-ranked
 * answer. The handler is thin: read → validate (every field at fault, the whole batch refused) →
 * prove the user → 202, with the records sent to the event log after the response.
 */
import { Hono, type Context } from 'hono'
import { invalidRequest, problemResponse } from '../../http/problem.ts'
import { note } from '../../http/request-log.ts'
import { limitBody, readJson, requireMediaType } from '../../http/rerank-input.ts'
import { EventLog } from '../../events/event-log.ts'
import { interactionOf, loggedUser } from '../../events/impression.ts'
import { EventBatch, eventTimeProblems, type EventsAccepted } from '../../shared/events-api.ts'
import { fieldProblems } from '../../shared/rerank-api.ts'
import { edgeConfig } from '../config.ts'
import type { EdgeEnv } from '../env.ts'
import { resolveUser } from '../resolved-request.ts'

/** 100 events with their longest ids fit well inside this. */
export const MAX_EVENTS_BODY_BYTES = 64 * 1024

async function acceptEvents(c: Context<EdgeEnv>): Promise<Response> {
  const body = await readJson(c)
  if (body instanceof Response) return body
  const parsed = EventBatch.safeParse(body.json)
  if (!parsed.success) return invalidRequest(c, fieldProblems(parsed.error))
  const config = edgeConfig(c.env)
  const receivedAt = Date.now()
  const late = eventTimeProblems(parsed.data, receivedAt, config.LOG_RETENTION_DAYS)
  if (late.length) return invalidRequest(c, late)

  const { user: asUser, events } = parsed.data
  const token = asUser?.token ?? c.req.header('X-User-Token')
  const { proof, proven, user } = await resolveUser(config, asUser?.id, token)
  if (asUser?.id !== undefined && !proven)
    return problemResponse(c, {
      status: 401,
      title: 'Unauthorized',
      field: 'user.token',
      detail: `user.token: the user id is not proven (${proof}): send the X-User-Token your server signed for it, in the body's user.token or the X-User-Token header`,
    })

  const log = new EventLog(c.env.EVENTS)
  const at = new Date(receivedAt).toISOString()
  c.executionCtx.waitUntil(
    log.send(async () => {
      const who = await loggedUser(config, user, asUser?.session)
      return events.map((e) => interactionOf(e, who, at))
    }),
  )
  note(c, {
    events: events.length,
    user: user ? 'user_id' : asUser?.session ? 'session' : 'anonymous',
    logged: log.enabled,
  })
  return c.json({ accepted: events.length } satisfies EventsAccepted, 202)
}

export const eventRoutes = new Hono<EdgeEnv>().post(
  '/events',
  limitBody(MAX_EVENTS_BODY_BYTES),
  // sendBeacon sends a string body as text/plain; the body is JSON either way.
  requireMediaType(['application/json', 'text/plain']),
  acceptEvents,
)
