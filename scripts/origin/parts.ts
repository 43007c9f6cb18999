/**
 * Builds the origin from what is on disk: the release (models/manifest.json and the teacher's ONNX
 * file), the SYNTHETIC world's catalog the release was trained on (generated if missing) and the
 * world's own text encoder as the query encoder. `npm run origin`, the tests and bench:origin all
 * start it through here.
 */
import { join } from 'node:path'
import { BackendError, OnnxBackend, type InferenceBackend } from '../../functions/origin/backend.ts'
import { OriginCatalog } from '../../functions/origin/catalog.ts'
import type { OriginConfig } from '../../functions/origin/config.ts'
import { KServeBackend } from '../../functions/origin/kserve/backend.ts'
import { startOrigin, type RunningOrigin } from '../../functions/origin/server.ts'
import { OriginService } from '../../functions/origin/service.ts'
import { SyntheticQueryEncoder } from '../../functions/text-encoder/query-encoder.ts'
import { readManifest } from '../kv/entries.ts'
import { ensureWorld } from '../world/ensure.ts'
import { loadCatalog } from '../world/store.ts'

/** The release's catalog and query encoder, checked to be the world the release was trained on. */
export function releaseCatalog(modelsDir: string, catalogDir: string) {
  const manifest = readManifest(modelsDir)
  const named = manifest.synthetic_world
  if (!named) throw new Error(`release ${manifest.version} names no world to read its catalog from`)
  ensureWorld(named.preset, named.seed, catalogDir)
  const { manifest: world, arrays } = loadCatalog(catalogDir)
  if (world.content_hash !== named.content_hash)
    throw new Error(
      `the world in ${catalogDir} (content ${world.content_hash.slice(0, 12)}) is not the one release ${manifest.version} was trained on`,
    )
  const encoder = new SyntheticQueryEncoder({
    seed: world.seed,
    categories: world.config.categories,
    brandsPerCategory: world.config.brandsPerCategory,
    textDim: world.config.textDim,
  })
  return { manifest, catalog: new OriginCatalog(arrays), encoder }
}

export type CatalogParts = ReturnType<typeof releaseCatalog>

/** The backend the config names, loaded (and, for kserve, its model ready). */
export function backendFor(config: OriginConfig, modelFile: string): () => Promise<InferenceBackend> {
  return async () => {
    if (config.INFER_BACKEND === 'onnx') return OnnxBackend.create(modelFile, config.EXECUTION_PROVIDER)
    const kserve = new KServeBackend({ url: config.INFER_URL!, model: config.INFER_MODEL, token: config.INFER_TOKEN })
    await kserve.waitReady()
    return kserve
  }
}

/** An origin over `parts` with `config`'s settings, listening and loaded. */
export async function launchOrigin(
  config: OriginConfig,
  parts: CatalogParts = releaseCatalog(config.MODELS_DIR, config.CATALOG_DIR),
): Promise<RunningOrigin> {
  const service = new OriginService({
    manifest: parts.manifest,
    catalog: parts.catalog,
    encoder: parts.encoder,
    model: config.TEACHER_MODEL,
    batching: { windowMs: config.BATCH_WINDOW_MS, maxBatch: config.MAX_BATCH, maxQueue: config.MAX_QUEUE },
    historyLimit: config.HISTORY_LIMIT,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  })
  const file = join(config.MODELS_DIR, service.spec.file)
  const origin = await startOrigin({
    service,
    backend: backendFor(config, file),
    token: config.ORIGIN_TOKEN,
    port: config.PORT,
    host: config.HOST,
  })
  try {
    await origin.loaded
  } catch (e) {
    await origin.stop()
    throw e instanceof BackendError ? e : new BackendError(String(e))
  }
  return origin
}
