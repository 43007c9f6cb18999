/**
 * The demo page's copy of the storefront client: functions/client/rerank-client.ts bundled for the
 * browser → public/client.js (not committed). wrangler.toml's `[build]` runs this before every
 * `wrangler dev` and `wrangler deploy`, so nobody has to remember it.
 */
import { build } from 'esbuild'

export const CLIENT_BUNDLE = 'public/client.js'

await build({
  entryPoints: ['functions/client/rerank-client.ts'],
  outfile: CLIENT_BUNDLE,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
})
