import { Hono } from 'hono'
import { producerCounts } from '../../events/event-log.ts'
import { manifest } from '../artifacts.ts'
import { edgeConfig } from '../config.ts'
import type { EdgeEnv } from '../env.ts'
import { embeddingStore, originBreaker, rerankHead } from '../parts.ts'

/** What this worker serves (model and embedding versions) and whether its parts are there. */
export const healthRoutes = new Hono<EdgeEnv>().get('/healthz', async (c) => {
  const config = edgeConfig(c.env)
  const { embedding } = manifest
  const store = embeddingStore(c.env, config)
  let kv: 'ok' | 'empty' | 'unavailable'
  let uploaded: unknown = null
  try {
    uploaded = await store.meta()
    kv = uploaded ? 'ok' : 'empty'
  } catch {
    kv = 'unavailable'
  }
  return c.json({
    status: kv === 'ok' ? 'ok' : 'degraded',
    service: c.env.SERVICE_NAME ?? 'edge-rerank',
    model: manifest.version,
    embeddings: {
      version: embedding.version,
      codec: embedding.quantization.codec,
      kv_prefix: embedding.kv_prefix,
      kv,
      uploaded,
    },
    head: (({ backend, loaded }) => ({ backend, loaded }))(rerankHead(c.var.heads, config)),
    origin: config.ORIGIN_URL ? { configured: true, breaker: originBreaker(config).state } : { configured: false },
    // This isolate's producer since it started: a failed send is an event the log lost.
    events: { logging: c.env.EVENTS !== undefined, ...producerCounts() },
  })
})
