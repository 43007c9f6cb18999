/**
 * `npm start`: the edge worker and the full-model origin on the committed defaults, wired
 * together. Seeds wrangler's local KV from the committed release when it is empty (or holds
 * another release), starts the origin (the teacher on onnxruntime-node, SYNTHETIC catalog), shares
 * a generated bearer token with the edge through `.dev.vars` (kept, so a second start reuses it, as
 * it does the user-key secret kv:seed generates there),
 * then runs `wrangler dev`. Ctrl-C stops both.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { originConfig } from '../functions/origin/config.ts'
import { DEV_VARS, updateDevVars } from './dev-vars.ts'
import { ensureSeeded } from './kv/seed.ts'
import { launchOrigin } from './origin/parts.ts'
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
const origin = await launchOrigin(originConfig({ ...process.env, PORT: ORIGIN_PORT, ORIGIN_TOKEN: token }))
console.log(`origin: ${origin.url} ready (token in ${DEV_VARS})`)

// Its own process group, so a stop reaches wrangler's workerd too, whoever sends it.
const dev = spawn(
  'npx',
  ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', EDGE_PORT, '--show-interactive-dev-session=false'],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: wranglerEnv() },
)
let announced = false
let tail = '' // the line can arrive split across chunks
dev.stdout.setEncoding('utf8')
dev.stdout.on('data', (chunk: string) => {
  process.stdout.write(chunk)
  tail = (tail + chunk).slice(-1024)
  const ready = /Ready on (http:\/\/\S+)\s/.exec(tail)
  if (ready && !announced) {
    announced = true
    const url = ready[1]
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
    process.kill(-dev.pid!, signal)
    void origin.stop()
  })
dev.on('exit', async (code) => {
  await origin.stop()
  process.exit(code ?? 0)
})
