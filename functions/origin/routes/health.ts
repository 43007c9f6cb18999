import { Hono } from 'hono'
import type { OriginEnv } from '../env.ts'
import type { OriginService } from '../service.ts'

/** What the origin serves and whether it can: like the edge's /healthz. */
export function healthRoutes(service: OriginService) {
  return new Hono<OriginEnv>().get('/healthz', (c) => {
    const { manifest, catalog } = service.opts
    return c.json(
      {
        status: service.ready ? 'ok' : service.draining ? 'draining' : 'loading',
        service: 'edge-rerank-origin',
        model: manifest.version,
        teacher: service.name,
        backend: service.backend?.description ?? null,
        catalog: {
          items: catalog.size,
          feature_mb: +(catalog.featureBytes / 2 ** 20).toFixed(1),
          synthetic: manifest.synthetic_world !== undefined,
        },
        rss_mb: +(process.memoryUsage.rss() / 2 ** 20).toFixed(1),
        query_encoder: service.opts.encoder ? true : false,
        batching: {
          window_ms: service.batcher.windowMs,
          max_batch: service.batcher.maxBatch,
          max_queue: service.batcher.maxQueue,
          queued: service.batcher.queued,
        },
      },
      service.ready ? 200 : 503,
    )
  })
}
