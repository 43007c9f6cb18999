/**
 * `npm run origin`: the full-model origin on Node (functions/origin/main.ts), configured by its
 * environment (functions/origin/config.ts: PORT, ORIGIN_TOKEN, INFER_BACKEND, BATCH_WINDOW_MS, …),
 * serving the committed release over the SYNTHETIC world's catalog.
 */
import { runOrigin } from '../../functions/origin/main.ts'
import { syntheticOriginRelease } from '../world/release-world.ts'

await runOrigin(process.env, (config) => syntheticOriginRelease(config.MODELS_DIR, config.CATALOG_DIR))
