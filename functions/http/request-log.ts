import { createMiddleware } from 'hono/factory'
import type { RequestIdVariables } from 'hono/request-id'

/** What the request log leaves for handlers (edge and origin apps both carry it). */
export type LogVariables = RequestIdVariables & {
  /** Epoch ms the request arrived: deadlines count from here. */
  arrivedAt: number
  /** Fields for the request's one structured log line. */
  log: Record<string, unknown>
}

export interface RequestLogOptions {
  /** Where each line goes. @default console.log (Workers Logs on the edge, stdout at the origin) */
  write?: (line: string) => void
}

/**
 * One JSON log line per request, with the request id and whatever the handler noted. Handlers put
 * no user data in it: no user id (only its hash exists past validation), no query text, no item ids.
 *
 * @example
 * app.use(requestId()).use(requestLog())
 * app.post('/v1/rerank', (c) => (note(c, { candidates: 3 }), c.json({})))
 */
export const requestLog = ({ write = (line) => console.log(line) }: RequestLogOptions = {}) =>
  createMiddleware<{ Variables: LogVariables }>(async function requestLog(c, next) {
    c.set('arrivedAt', Date.now())
    // The line itself, filled in as the request goes: handlers' notes land after these fields.
    const line: Record<string, unknown> = {
      level: 'info',
      msg: 'request',
      request_id: c.get('requestId'),
      method: c.req.method,
      route: '',
      status: 0,
      ms: 0,
    }
    c.set('log', line)
    await next()
    if (c.res.status >= 500) line.level = 'error'
    line.route = c.req.routePath
    line.status = c.res.status
    line.ms = Date.now() - c.get('arrivedAt')
    write(JSON.stringify(line))
  })

export function note(c: { get: (k: 'log') => Record<string, unknown> }, fields: Record<string, unknown>): void {
  Object.assign(c.get('log'), fields)
}
