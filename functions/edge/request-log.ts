import { createMiddleware } from 'hono/factory'
import type { EdgeEnv } from './env.ts'

/**
 * One JSON log line per request, with the request id and whatever the handler noted. Handlers put
 * no user id in it: only the hashed form exists past validation.
 */
export const requestLog = createMiddleware<EdgeEnv>(async (c, next) => {
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
