/**
 * `npm start`: the edge worker on the committed defaults. Seeds wrangler's local KV from the
 * committed release when it is empty (or holds another release), then runs `wrangler dev` and
 * prints the URL with a request to try.
 */
import { spawn } from 'node:child_process'
import { ensureSeeded } from './kv/seed.ts'

const PORT = process.env.PORT ?? '8787'
await ensureSeeded({ target: 'local', models: 'models', world: 'data/worlds/default' })

const dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', PORT], {
  stdio: ['inherit', 'pipe', 'inherit'],
})
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
    console.log(`\nedge-rerank is up at ${url}  (SYNTHETIC world, committed release)\n`)
    console.log(`  curl ${url}/healthz`)
    console.log(
      `  curl -s ${url}/v1/rerank -H 'content-type: application/json' -d @test/fixtures/requests/history.json\n`,
    )
  }
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => dev.kill(signal))
dev.on('exit', (code) => process.exit(code ?? 0))
