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
