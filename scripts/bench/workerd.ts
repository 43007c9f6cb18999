/**
 * A bundle served by workerd through Miniflare's API (the runtime `wrangler dev` wraps, without its
 * proxy in front), with the local KV `npm run kv:seed -- --local` wrote.
 */
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import type { Bundle } from '../worker-bundle.ts'

export interface Served {
  url: string
  mf: Miniflare
  dispose: () => Promise<void>
}

/** wrangler's local state (what `wrangler dev` and kv:seed --local use). */
export const LOCAL_STATE = '.wrangler/state'

const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync('wrangler.toml', 'utf8'))![1]

const moduleType = (name: string) =>
  name.endsWith('.js') ? 'ESModule' : name.endsWith('.wasm') ? 'CompiledWasm' : 'Data'

/** Serves a wrangler --outdir bundle (every module it wrote, listed: ORT's glue has a dynamic
 *  import Miniflare cannot follow) with the EMBEDDINGS namespace, `vars`, and (`eventLog`) the
 *  event log's queue as deployed, with nothing consuming it. */
export async function serveBundle(
  bundle: Bundle,
  vars: Record<string, string> = {},
  { eventLog = true }: { eventLog?: boolean } = {},
): Promise<Served> {
  const ordered = [bundle.main, ...bundle.files.map((f) => f.name).filter((n) => n !== bundle.main)]
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modulesRoot: bundle.dir,
      modules: ordered.map((name) => ({ type: moduleType(name), path: join(bundle.dir, name) })),
      compatibilityDate,
      kvNamespaces: { EMBEDDINGS: 'EMBEDDINGS' },
      ...(eventLog ? { queueProducers: { EVENTS: 'edge-rerank-events' } } : {}),
      // KV from wrangler's local state. The Cache API stores nothing (cacheAPI: false), so no run
      // answers from an earlier one's cache; the bench also sets CACHE_TTL_S=0.
      resourcePersistencePath: join(LOCAL_STATE, 'v3'),
      cacheAPI: false,
      bindings: vars,
      // No fetch of the Request.cf sample (offline), and the worker's own request log kept out of the report.
      cf: false,
      log: new Log(LogLevel.WARN),
      handleStructuredLogs: () => {},
    }),
  )
  const url = (await mf.ready).origin
  return { url, mf, dispose: () => mf.dispose() }
}
