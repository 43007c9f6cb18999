/**
 * Launching the origin: its configuration (functions/origin/config.ts) chooses the backend and
 * the batching; what it serves (the manifest, the catalog, the query encoder) comes in as an
 * `OriginRelease` from whoever launches it, so nothing here knows where a catalog comes from. The
 * command line (scripts/origin/cli.ts) brings the synthetic world's; a real deployment its own.
 */
import { join } from 'node:path'
import { BackendError, OnnxBackend, type InferenceBackend } from './backend.ts'
import { ConfigError, originConfig, type OriginConfig } from './config.ts'
import { KServeBackend } from './kserve/backend.ts'
import { startOrigin, type RunningOrigin } from './server.ts'
import { OriginService, type OriginRelease } from './service.ts'

/** The backend `config` names, loaded (and, for kserve, its model ready). */
export function backendFor(config: OriginConfig, modelFile: string): () => Promise<InferenceBackend> {
  return async () => {
    if (config.INFER_BACKEND === 'onnx') return OnnxBackend.create(modelFile, config.EXECUTION_PROVIDER)
    const kserve = new KServeBackend({ url: config.INFER_URL!, model: config.INFER_MODEL, token: config.INFER_TOKEN })
    await kserve.waitReady()
    return kserve
  }
}

/**
 * An origin serving `release` with `config`'s settings, listening and loaded; a backend that
 * cannot load stops it and rejects with BackendError.
 *
 * @example
 * const origin = await launchOrigin(originConfig(process.env), { manifest, catalog, encoder })
 * await origin.stop()
 */
export async function launchOrigin(
  config: OriginConfig,
  release: OriginRelease,
  { log }: { log?: (line: string) => void } = {},
): Promise<RunningOrigin> {
  const service = new OriginService({
    ...release,
    model: config.TEACHER_MODEL,
    batching: { windowMs: config.BATCH_WINDOW_MS, maxBatch: config.MAX_BATCH, maxQueue: config.MAX_QUEUE },
    historyLimit: config.HISTORY_LIMIT,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  })
  const origin = await startOrigin({
    service,
    backend: backendFor(config, join(config.MODELS_DIR, service.teacher.spec.file)),
    token: config.ORIGIN_TOKEN,
    port: config.PORT,
    host: config.HOST,
    log,
  })
  try {
    await origin.loaded
  } catch (e) {
    await origin.stop()
    throw e instanceof BackendError ? e : new BackendError(String(e))
  }
  return origin
}

/** Reads what the origin serves, from the directories its config names (MODELS_DIR, CATALOG_DIR). */
export type ReleaseLoader = (config: OriginConfig) => OriginRelease

/** The line a started origin prints (scripts/origin/process.ts waits for its `origin: <url> ready`). */
export function readyLine({ url, service }: RunningOrigin): string {
  const { teacher, release } = service
  const synthetic = release.manifest.synthetic_world ? ' (SYNTHETIC catalog)' : ''
  return (
    `origin: ${url} ready: ${teacher.name} of release ${release.manifest.version} on ${teacher.backend!.description}, ` +
    `batching ${teacher.batcher.windowMs} ms × ${teacher.batcher.maxBatch}, ${release.catalog.size} items${synthetic}`
  )
}

/**
 * `npm run origin`: configured by `env`, serving what `loadRelease` reads, stopping gracefully on
 * SIGINT/SIGTERM (in-flight requests finish, new ones are refused). A configuration or backend
 * error exits 2 with its message alone.
 *
 * @example
 * await runOrigin(process.env, (config) => myRelease(config.MODELS_DIR, config.CATALOG_DIR))
 */
export async function runOrigin(env: Record<string, string | undefined>, loadRelease: ReleaseLoader): Promise<void> {
  let origin: RunningOrigin
  try {
    const config = originConfig(env)
    if (!config.ORIGIN_TOKEN)
      console.warn(
        '\n!!! ORIGIN_ALLOW_ANONYMOUS=1: /v1/rerank and /v2 inference answer ANYONE, with no token. Never expose this.\n',
      )
    origin = await launchOrigin(config, loadRelease(config))
    console.log(readyLine(origin))
  } catch (e) {
    if (e instanceof ConfigError || e instanceof BackendError) {
      console.error(e.message)
      process.exit(2)
    }
    throw e
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, async () => {
      console.log(`origin: ${signal}, finishing in-flight requests`)
      await origin.stop()
      console.log('origin: stopped')
      process.exit(0)
    })
}
