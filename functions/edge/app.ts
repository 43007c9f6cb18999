import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { timing } from 'hono/timing'
import { notFound, onError } from '../http/problem.ts'
import type { EdgeEnv } from './env.ts'
import { requestLog } from '../http/request-log.ts'
import { healthRoutes } from './routes/health.ts'
import { rerankRoutes } from './routes/rerank.ts'

export const app = new Hono<EdgeEnv>()
  .use(requestId())
  .use(timing({ autoEnd: true }))
  .use(requestLog)
  .route('/', healthRoutes)
  .route('/v1', rerankRoutes)

app.notFound(notFound)
app.onError(onError)
