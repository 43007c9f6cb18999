/**
 * The origin's configuration, from its environment (strings), parsed once at start; a bad value
 * names the variable. The re-rank core never sees these: the server turns them into typed parts.
 */
import { z } from 'zod'
import { firstIssue } from '../shared/rerank-api.ts'

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const flag = z.enum(['0', '1']).transform((v) => v === '1')

const Env = z.object({
  PORT: int(0, 65_535).default(8788),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Bearer token the edge sends (`Authorization: Bearer …`), compared in constant time. */
  ORIGIN_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'a bearer token is letters, digits and . _ ~ + / - (then = padding)')
    .optional(),
  /** Serve /v1 and /v2 inference without a token: only for local experiments. */
  ORIGIN_ALLOW_ANONYMOUS: flag.default(false),
  /** `onnx`: onnxruntime-node in process; `kserve`: a KServe v2 server (Triton) at INFER_URL. */
  INFER_BACKEND: z.enum(['onnx', 'kserve']).default('onnx'),
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  INFER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The model's name on the KServe server (Triton's model repository names it as export:triton did). */
  INFER_MODEL: z.string().min(1).default('armmt'),
  INFER_TOKEN: z.string().optional(),
  /** The manifest's model the origin serves. */
  TEACHER_MODEL: z.string().min(1).default('armmt'),
  /** How long a batch that could start at once waits for company (0: never; functions/origin/batcher.ts). */
  BATCH_WINDOW_MS: z.coerce.number().min(0).max(10_000).default(0),
  MAX_BATCH: int(1, 256).default(64),
  MAX_QUEUE: int(1, 100_000).default(1024),
  HISTORY_LIMIT: int(0, 200).default(50),
  /** Longest a request may wait for its answer when the caller sends no X-Deadline-Ms. */
  REQUEST_TIMEOUT_MS: int(1, 600_000).default(10_000),
  MODELS_DIR: z.string().min(1).default('models'),
  CATALOG_DIR: z.string().min(1).default('data/worlds/default'),
})
export type OriginConfig = z.output<typeof Env>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function originConfig(env: Record<string, string | undefined>): OriginConfig {
  const vars = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in Env.shape && v !== undefined && v !== ''))
  const parsed = Env.safeParse(vars)
  if (!parsed.success) throw new ConfigError(`origin: ${firstIssue(parsed.error).detail}`)
  const config = parsed.data
  if (!config.ORIGIN_TOKEN && !config.ORIGIN_ALLOW_ANONYMOUS)
    throw new ConfigError(
      'origin: set ORIGIN_TOKEN (the bearer token the edge sends), or ORIGIN_ALLOW_ANONYMOUS=1 to serve without one',
    )
  if (config.INFER_BACKEND === 'kserve' && !config.INFER_URL)
    throw new ConfigError('origin: INFER_BACKEND=kserve needs INFER_URL (the KServe v2 server, e.g. Triton)')
  return config
}
