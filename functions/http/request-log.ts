import { createMiddleware } from 'hono/factory'
import type { RequestIdVariables } from 'hono/request-id'

/** What the request log leaves for handlers (edge and origin apps both carry it). */
export type LogVariables = RequestIdVariables & {
  /** Epoch ms the request arrived: deadlines count from here. */
  arrivedAt: number
  /** Fields for the request's one structured log line. */
  log: Record<string, unknown>
}

/**
 * One JSON log line per request, with the request id and whatever the handler noted. Handlers put
 * no user data in it: no user id (only its hash exists past validation), no query text, no item ids.
 */
export const requestLog = createMiddleware<{ Variables: LogVariables }>(async function requestLog(c, next) {
  c.set('arrivedAt', Date.now())
  c.set('log', {})
  await next()
  const line = {
    level: c.res.status >= 500 ? 'error' : 'info',
    msg: 'request',
    request_id: c.get('requestId'),
    method: c.req.method,
    route: c.req.routePath,
    status: c.res.status,
    ms: Date.now() - c.get('arrivedAt'),
    ...c.get('log'),
  }
  console.log(JSON.stringify(line))
})

export function note(c: { get: (k: 'log') => Record<string, unknown> }, fields: Record<string, unknown>): void {
  Object.assign(c.get('log'), fields)
}
