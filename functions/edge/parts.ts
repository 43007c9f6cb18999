/** The per-request parts every route builds the same way from the bindings and the config. */
import { manifest } from './artifacts.ts'
import type { Bindings, EdgeConfig } from './config.ts'
import { EmbeddingStore } from './embedding-store.ts'
import { breakerFor, type Breaker } from './origin-client.ts'

export function embeddingStore(env: Bindings, config: EdgeConfig): EmbeddingStore {
  const { embedding } = manifest
  return new EmbeddingStore(env.EMBEDDINGS, {
    prefix: embedding.kv_prefix,
    dim: embedding.dim,
    cacheTtl: config.KV_CACHE_TTL_S,
    vectorCacheBytes: config.VECTOR_CACHE_MB * 2 ** 20,
  })
}

export function originBreaker(config: EdgeConfig): Breaker {
  return breakerFor(config.ORIGIN_URL, config.BREAKER_FAILURES, config.BREAKER_COOLDOWN_S * 1000)
}
