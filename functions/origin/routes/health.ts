import { Hono } from 'hono'
import type { OriginEnv } from '../env.ts'
import type { OriginRelease } from '../service.ts'
import type { Teacher } from '../teacher.ts'

/** What /healthz reads of the origin. */
export interface HealthSources {
  readonly ready: boolean
  readonly draining: boolean
  readonly release: OriginRelease
  readonly teacher: Pick<Teacher, 'name' | 'backend' | 'batcher'>
}

/** What the origin serves and whether it can: like the edge's /healthz. */
export function healthRoutes(origin: HealthSources) {
  return new Hono<OriginEnv>().get('/healthz', (c) => {
    const { manifest, catalog, encoder } = origin.release
    const { batcher } = origin.teacher
    return c.json(
      {
        status: origin.ready ? 'ok' : origin.draining ? 'draining' : 'loading',
        service: 'edge-rerank-origin',
        model: manifest.version,
        teacher: origin.teacher.name,
        backend: origin.teacher.backend?.description ?? null,
        catalog: {
          items: catalog.size,
          feature_mb: +(catalog.featureBytes / 2 ** 20).toFixed(1),
          synthetic: manifest.synthetic_world !== undefined,
        },
        rss_mb: +(process.memoryUsage.rss() / 2 ** 20).toFixed(1),
        query_encoder: encoder ? true : false,
        batching: {
          window_ms: batcher.windowMs,
          max_batch: batcher.maxBatch,
          max_queue: batcher.maxQueue,
          queued: batcher.queued,
          batches_run: batcher.totals.batches,
          jobs_run: batcher.totals.jobs,
        },
      },
      origin.ready ? 200 : 503,
    )
  })
}
