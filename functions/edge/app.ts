import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import { timing } from 'hono/timing'
import { notFound, onError, problemResponse } from '../http/problem.ts'
import { requestLog } from '../http/request-log.ts'
import { consumeLogBatch } from '../events/consumer.ts'
import type { LogRecord } from '../events/log-record.ts'
import { edgeConfig, type Bindings } from './config.ts'
import type { EdgeEnv } from './env.ts'
import type { HeadBackends } from './parts.ts'
import { healthRoutes } from './routes/health.ts'
import { eventRoutes } from './routes/events.ts'
import { rerankRoutes } from './routes/rerank.ts'

/** A known route asked with a method it does not serve: 405, saying which it does. */
const methodNotAllowed = (allow: string) => (c: Context) =>
  problemResponse(
    c,
    { status: 405, title: 'Method Not Allowed', detail: `${c.req.method} ${c.req.path}: use ${allow}` },
    { Allow: allow },
  )

/**
 * The edge worker: its HTTP app, and the event log's queue consumer (functions/events/consumer.ts).
 *
 * @example
 * export default edgeWorker({ kernel: isolateKernelHead })
 */
export function edgeWorker(heads: HeadBackends) {
  const app = edgeApp(heads)
  return {
    fetch: app.fetch,
    queue: consumeLogBatch,
  } satisfies ExportedHandler<Bindings, LogRecord>
}

/**
 * The edge's HTTP app over the head backends its build carries (functions/edge/index.ts: the kernel
 * only; index-ort.ts: the kernel and onnxruntime-web). `HEAD_BACKEND` picks one per deployment.
 *
 * @example
 * export default edgeApp({ kernel: isolateKernelHead })
 */
export function edgeApp(heads: HeadBackends) {
  const app = new Hono<EdgeEnv>()
    .use(requestId())
    .use(async function headBackends(c, next) {
      c.set('heads', heads)
      await next()
    })
    .use(timing({ autoEnd: true }))
    .use(requestLog())
    // Browsers from CORS_ORIGINS only (none by default); storefront code may read the answer's headers.
    .use(
      '/v1/*',
      cors({
        origin: (origin, c) => (edgeConfig(c.env).CORS_ORIGINS.includes(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'X-User-Token', 'X-Request-Id'],
        exposeHeaders: [
          'Server-Timing',
          'X-Rerank-Path',
          'X-Cache',
          'X-Model-Version',
          'X-Request-Id',
          'X-Rerank-Fallback',
          'X-Answer-Id',
        ],
        maxAge: 600,
      }),
    )
    .route('/', healthRoutes)
    .route('/v1', rerankRoutes)
    .route('/v1', eventRoutes)
    .all('/v1/rerank', methodNotAllowed('GET, POST, OPTIONS'))
    .all('/v1/events', methodNotAllowed('POST, OPTIONS'))
    .all('/healthz', methodNotAllowed('GET'))
  app.notFound(notFound)
  app.onError(onError)
  return app
}
