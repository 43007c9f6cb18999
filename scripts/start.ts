/**
 * `npm start`: the edge worker and the full-model origin on the committed defaults, wired
 * together. Seeds wrangler's local KV from the committed release when it is empty (or holds
 * another release), starts the origin (the teacher on onnxruntime-node, SYNTHETIC catalog), shares
 * a generated bearer token with the edge through `.dev.vars` (kept, so a second start reuses it, as
 * it does the user-key secret kv:seed generates there),
 * then runs `wrangler dev`. Ctrl-C stops both, and says so.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { originConfig } from '../functions/origin/config.ts'
import { DEV_VARS, updateDevVars } from './dev-vars.ts'
import { ensureSeeded } from './kv/seed.ts'
import { launchOrigin } from '../functions/origin/main.ts'
import { syntheticOriginRelease } from './world/release-world.ts'
import { wranglerEnv } from './wrangler-env.ts'

const EDGE_PORT = process.env.PORT ?? '8787'
const ORIGIN_PORT = process.env.ORIGIN_PORT ?? '8788'

await ensureSeeded({ target: 'local', models: 'models', world: 'data/worlds/default' })
const originUrl = `http://127.0.0.1:${ORIGIN_PORT}`
// The local page may call the local edge; storefront servers would sign user tokens with USER_TOKEN_SECRET.
const vars = updateDevVars({ ORIGIN_URL: originUrl, CORS_ORIGINS: `http://127.0.0.1:${EDGE_PORT}` }, [
  'ORIGIN_TOKEN',
  'USER_TOKEN_SECRET',
])
const token = vars.get('ORIGIN_TOKEN')!
const config = originConfig({ ...process.env, PORT: ORIGIN_PORT, ORIGIN_TOKEN: token })
const origin = await launchOrigin(config, syntheticOriginRelease(config.MODELS_DIR, config.CATALOG_DIR))
console.log(`origin: ${origin.url} ready (token in ${DEV_VARS})`)

// Its own process group, so a stop reaches wrangler's workerd too, whoever sends it.
const dev = spawn(
  'npx',
  ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', EDGE_PORT, '--show-interactive-dev-session=false'],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: wranglerEnv() },
)

// wrangler logs each request itself ("[wrangler:info] GET /healthz 200 OK (3ms)") beside the
// worker's own JSON line. It has no switch for that line alone (`--log-level warn` hides the
// worker's console.log too), so it is dropped here; files served from public/ go unlogged.
const WRANGLER_REQUEST_LINE = /^\[wrangler:info\] [A-Z]+ \S+ \d{3} /
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g
let edgeUrl: string | undefined
createInterface({ input: dev.stdout }).on('line', (line) => {
  const plain = line.replace(ANSI_COLOUR, '')
  if (WRANGLER_REQUEST_LINE.test(plain)) return
  console.log(line)
  const ready = /Ready on (http:\/\/\S+)/.exec(plain)
  if (ready && !edgeUrl) {
    const url = (edgeUrl = ready[1])
    console.log(`\nedge-rerank is up (SYNTHETIC world, committed release):`)
    console.log(`  edge    ${url}`)
    console.log(`  demo    ${url}/   (the demo storefront: before and after re-ranking, in a browser)`)
    console.log(`  origin  ${origin.url}   (the full teacher; the edge falls back to it)\n`)
    console.log(`  curl ${url}/healthz`)
    console.log(
      `  curl -sS ${url}/v1/rerank -H 'content-type: application/json' -d @${resolve('test/fixtures/requests/history.json')}`,
    )
    console.log(
      `  curl -sS ${url}/v1/rerank -H 'content-type: application/json' -d @${resolve('test/fixtures/requests/unknown-query.json')}   # falls back to the origin\n`,
    )
  }
})
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    console.log(`\nnpm start: stopping the edge (wrangler dev) and the origin…`)
    process.kill(-dev.pid!, signal)
    void origin.stop()
  })
dev.on('exit', async (code, signal) => {
  await origin.stop()
  const edge = `the edge (wrangler dev${edgeUrl ? `, ${edgeUrl}` : ''})`
  if (stopping)
    console.log(`npm start: stopped ${edge} and the origin (${origin.url}); local KV and ${DEV_VARS} are kept`)
  else console.error(`npm start: ${edge} exited (${code ?? signal}); stopped the origin (${origin.url})`)
  process.exit(stopping ? 0 : (code ?? 1))
})
