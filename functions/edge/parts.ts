/** The per-request parts every route builds the same way from the bindings and the config. */
import { manifest } from './artifacts.ts'
import type { Bindings, EdgeConfig } from './config.ts'
import { EmbeddingStore } from './embedding-store.ts'
import { missingHead, type HeadBackendName, type RerankHead } from './head/rerank-head.ts'
import { breakerFor, type Breaker } from './origin-client.ts'

/** The head backends a build carries, each a thunk for the isolate's one instance. */
export type HeadBackends = Partial<Record<HeadBackendName, () => RerankHead>>

export function embeddingStore(env: Bindings, config: EdgeConfig): EmbeddingStore {
  const { embedding } = manifest
  return new EmbeddingStore(env.EMBEDDINGS, {
    prefix: embedding.kv_prefix,
    dim: embedding.dim,
    cacheTtl: config.KV_CACHE_TTL_S,
    historyCacheTtl: config.HISTORY_CACHE_TTL_S,
    vectorCacheBytes: config.VECTOR_CACHE_MB * 2 ** 20,
  })
}

export function originBreaker(config: EdgeConfig): Breaker {
  return breakerFor(config.ORIGIN_URL, config.BREAKER_FAILURES, config.BREAKER_COOLDOWN_S * 1000)
}

/** The configured head (`HEAD_BACKEND`), or one that says this build lacks it: requests then degrade. */
export function rerankHead(heads: HeadBackends, config: EdgeConfig): RerankHead {
  const name = config.HEAD_BACKEND
  return (
    heads[name]?.() ??
    missingHead(
      name,
      `HEAD_BACKEND=${name}, but this build carries only ${Object.keys(heads).join(', ')} (the ort build: functions/edge/index-ort.ts)`,
    )
  )
}
