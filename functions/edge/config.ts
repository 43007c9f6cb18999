/**
 * The worker's bindings (wrangler.toml) and the run-time configuration read from its vars.
 * Vars arrive as strings; each is parsed once per isolate, and a bad value names the var.
 */
import { z } from 'zod'
import type { LogRecord } from '../events/log-record.ts'
import { EVENT_TYPES } from '../shared/events-api.ts'
import { firstIssue } from '../shared/rerank-api.ts'

export type Bindings = {
  /** Item records (vector + price), query vectors, user histories (functions/shared/kv-keys.ts). */
  EMBEDDINGS: KVNamespace
  SERVICE_NAME?: string
  /** Base URL of the full-model origin (its `/v1/rerank` answers the same contract); empty: none. */
  ORIGIN_URL?: string
  /** Secret (`wrangler secret put ORIGIN_TOKEN`): sent to the origin as a bearer token. */
  ORIGIN_TOKEN?: string
  /** Time budget of a request's origin call, from the request's arrival, in ms. */
  ORIGIN_DEADLINE_MS?: string
  /** Consecutive origin failures that open the breaker, and how long it stays open. */
  BREAKER_FAILURES?: string
  BREAKER_COOLDOWN_S?: string
  /** Fallback when more than this share of the candidates has no embedding (auto mode). */
  MAX_MISSING_SHARE?: string
  /** How long answers stay in the Cache API (s); 0 turns answer caching off. */
  CACHE_TTL_S?: string
  /** KV edge-cache TTL for records and histories (s, ≥ 30). */
  KV_CACHE_TTL_S?: string
  /** KV edge-cache TTL for stored histories (s, ≥ 30): how stale a history kept from events may be read. */
  HISTORY_CACHE_TTL_S?: string
  /** History items the head reads (newest first). */
  HISTORY_LIMIT?: string
  /** In-isolate LRU of decoded records, in MiB. */
  VECTOR_CACHE_MB?: string
  /** Secret (`wrangler secret put USER_KEY_SECRET`): user ids are keyed with it (kv:seed uses the same). */
  USER_KEY_SECRET?: string
  /** Which secret that is (`v1`, `v2`, …): stored histories live under `hist/<version>/`. */
  USER_KEY_VERSION?: string
  /** Secret: storefront servers sign X-User-Token with it (functions/shared/user-token.ts). */
  USER_TOKEN_SECRET?: string
  /** `1`: trust a request's user.id without a token (only when every caller is your own server). */
  TRUST_USER_IDS?: string
  /** Browser origins allowed to call (comma-separated; empty: none). */
  CORS_ORIGINS?: string
  /** Which backend runs the edge head: `kernel` (the WASM SIMD kernel) or `ort` (the ort build only). */
  HEAD_BACKEND?: string
  /** The event log's queue (producer); without it nothing is logged. */
  EVENTS?: Queue<LogRecord>
  /** The event log's bucket (the queue's consumer writes it). */
  EVENT_LOG?: R2Bucket
  /** Which storefront events extend a signed-in shopper's stored history (comma-separated). */
  HISTORY_EVENT_TYPES?: string
  /** Days the log keeps: events older than this are refused. */
  LOG_RETENTION_DAYS?: string
  /** Tests only: the share of consumer batches that throw (and are retried). */
  CONSUMER_FAIL_SHARE?: string
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

const Config = z.object({
  ORIGIN_URL: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  ORIGIN_TOKEN: z.string().default(''),
  ORIGIN_DEADLINE_MS: int(1, 30_000).default(300),
  BREAKER_FAILURES: int(1, 1000).default(3),
  BREAKER_COOLDOWN_S: int(1, 3600).default(30),
  MAX_MISSING_SHARE: z.coerce.number().min(0).max(1).default(0.2),
  CACHE_TTL_S: int(0, 86_400).default(300),
  KV_CACHE_TTL_S: int(30, 86_400).default(300),
  HISTORY_CACHE_TTL_S: int(30, 86_400).default(30),
  HISTORY_LIMIT: int(0, 200).default(50),
  // An isolate has 128 MB for everything: half of it at most for decoded records.
  VECTOR_CACHE_MB: int(0, 32).default(16),
  USER_KEY_SECRET: z.string().min(16, 'use a secret of at least 16 characters').optional(),
  USER_KEY_VERSION: z
    .string()
    .regex(/^v\d{1,4}$/, 'a key version is v1, v2, …')
    .default('v1'),
  USER_TOKEN_SECRET: z.string().min(16, 'use a secret of at least 16 characters').optional(),
  TRUST_USER_IDS: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => v === '1'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  HEAD_BACKEND: z.enum(['kernel', 'ort']).default('kernel'),
  HISTORY_EVENT_TYPES: z
    .string()
    .default(EVENT_TYPES.join(','))
    .transform((v) =>
      v
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(EVENT_TYPES, `names one of ${EVENT_TYPES.join(', ')}`)))
    .transform((v) => new Set(v)),
  LOG_RETENTION_DAYS: int(1, 3650).default(90),
  CONSUMER_FAIL_SHARE: z.coerce.number().min(0).max(1).default(0),
})
export type EdgeConfig = z.output<typeof Config>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const parsed = new WeakMap<object, EdgeConfig>()

export function edgeConfig(env: Bindings): EdgeConfig {
  let config = parsed.get(env)
  if (!config) {
    // Unset and empty vars take the defaults.
    const vars = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string' && v !== ''))
    const result = Config.safeParse(vars)
    if (!result.success) {
      throw new ConfigError(`wrangler var ${firstIssue(result.error).detail}`)
    }
    config = result.data
    parsed.set(env, config)
  }
  return config
}
