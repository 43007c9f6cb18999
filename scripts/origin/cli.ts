/**
 * `npm run origin`: the full-model origin on Node (functions/origin/), configured by its
 * environment (functions/origin/config.ts: PORT, ORIGIN_TOKEN, INFER_BACKEND, BATCH_WINDOW_MS, …).
 * Stops gracefully on SIGINT/SIGTERM: in-flight requests finish, new ones are refused.
 */
import { ConfigError, originConfig } from '../../functions/origin/config.ts'
import { BackendError } from '../../functions/origin/backend.ts'
import { launchOrigin } from './parts.ts'

let origin: Awaited<ReturnType<typeof launchOrigin>>
try {
  const config = originConfig(process.env)
  if (!config.ORIGIN_TOKEN)
    console.warn(
      '\n!!! ORIGIN_ALLOW_ANONYMOUS=1: /v1/rerank and /v2 inference answer ANYONE, with no token. Never expose this.\n',
    )
  origin = await launchOrigin(config)
  const { service } = origin
  console.log(
    `origin: ${origin.url} ready: ${service.name} of release ${service.rerank.model} on ${service.backend!.description}, ` +
      `batching ${service.batcher.windowMs} ms × ${service.batcher.maxBatch}, ${service.opts.catalog.size} items (SYNTHETIC catalog)`,
  )
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
