import { Hono, type Context } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { createMiddleware } from 'hono/factory'
import { requestId } from 'hono/request-id'
import { timing } from 'hono/timing'
import { notFound, onError, problemResponse } from '../http/problem.ts'
import { requestLog } from '../http/request-log.ts'
import type { OriginEnv } from './env.ts'
import { healthRoutes } from './routes/health.ts'
import { rerankRoutes } from './routes/rerank.ts'
import { v2Routes } from './routes/v2.ts'
import type { OriginService } from './service.ts'

export interface OriginAppOptions {
  /** The bearer token /v1 and /v2 inference require; undefined serves them to anyone. */
  token?: string
  /** Where the request log's lines go (http/request-log.ts). @default console.log */
  log?: (line: string) => void
}

const unauthorized = (detail: string) => (c: Context) =>
  problemResponse(c, { status: 401, title: 'Unauthorized', detail, field: 'Authorization' })

/** While shutting down: refuse new work, and close each connection after its answer. */
const drainGuard = (origin: { readonly draining: boolean }) =>
  createMiddleware(async function drainGuard(c, next) {
    if (origin.draining) {
      c.header('Connection', 'close')
      if (!/^\/(healthz|v2\/health\/)/.test(c.req.path))
        return problemResponse(
          c,
          { status: 503, title: 'Service Unavailable', detail: 'the origin is shutting down' },
          { 'Retry-After': '1', Connection: 'close' },
        )
    }
    await next()
  })

/**
 * The origin's routes over its parts: `/v1/rerank` (the edge's contract), `/v2/…` (KServe v2 for
 * the raw teacher), `/healthz`. Inference needs the bearer token; health does not.
 *
 * @example
 * const app = createOriginApp(service, { token: process.env.ORIGIN_TOKEN })
 */
export function createOriginApp(service: OriginService, { token, log }: OriginAppOptions = {}) {
  const app = new Hono<OriginEnv>()
    .use(requestId())
    .use(timing({ autoEnd: true }))
    .use(requestLog({ write: log }))
    .use(drainGuard(service))
  if (token) {
    const auth = bearerAuth({
      token,
      noAuthenticationHeader: { message: unauthorized('send Authorization: Bearer <ORIGIN_TOKEN>') },
      invalidAuthenticationHeader: { message: unauthorized('Authorization must be "Bearer <token>"') },
      invalidToken: { message: unauthorized("the bearer token is not this origin's") },
    })
    app.use('/v1/*', auth).use('/v2/models/:name/infer', auth)
  }
  app.route('/', healthRoutes(service)).route('/v1', rerankRoutes(service)).route('/v2', v2Routes(service.v2))
  app.notFound(notFound)
  app.onError(onError)
  return app
}
