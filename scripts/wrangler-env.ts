import { spawnSync, type StdioOptions } from 'node:child_process'
import type { KvEntry } from '../functions/release/kv-entries.ts'

/**
 * The environment every wrangler process of ours runs in: no telemetry or error reports (this
 * machine reaches no network but the package registries) and no fetch of the `Request.cf` sample
 * (a stack trace on every offline start); Miniflare's placeholder serves instead.
 */
export const wranglerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
})

/** `npx wrangler ARGS` in that environment; by default its output is kept for the caller. */
export function runWrangler(args: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']) {
  return spawnSync('npx', ['wrangler', ...args], { encoding: 'utf8', stdio, env: wranglerEnv() })
}

/** The most pairs one `wrangler kv bulk put` file may hold. */
export const KV_BULK_PAIRS = 10_000

/**
 * `entries` (the upload marker last) as `wrangler kv bulk put` files' contents: the records in files
 * of at most `KV_BULK_PAIRS`, then the marker in a file of its own, so no partial upload looks complete.
 */
export function bulkParts(entries: KvEntry[]): KvEntry[][] {
  const body = entries.slice(0, -1)
  const parts: KvEntry[][] = []
  for (let i = 0; i < body.length; i += KV_BULK_PAIRS) parts.push(body.slice(i, i + KV_BULK_PAIRS))
  parts.push(entries.slice(-1))
  return parts
}
