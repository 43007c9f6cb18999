import { Hono } from 'hono'
import { notFound, onError } from '../http/problem.ts'

/** Bindings the worker reads (wrangler.toml). Grows as the edge gains KV, the model and the origin. */
export type Bindings = {
  SERVICE_NAME: string
}

export const app = new Hono<{ Bindings: Bindings }>()

// The model and embeddings arrive with issues 3 and 4; until then health says so plainly.
app.get('/healthz', (c) => c.json({ status: 'ok', service: c.env.SERVICE_NAME, model: null, embeddings: null }))

app.notFound(notFound)
app.onError(onError)
