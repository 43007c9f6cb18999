/**
 * Real origins for the edge's end-to-end tests (vitest globalSetup, in Node): the committed
 * teacher on onnxruntime-node over the default SYNTHETIC catalog, each on its own port with the
 * settings a scenario needs, plus a control server that stops and restarts one of them mid-run.
 *   full         the origin as `npm run origin` runs it
 *   slow         a 1 s batch window: slower than any edge deadline in the tests
 *   narrow       a queue of one and a 2 s window: a second concurrent request finds it full
 *   restartable  POST <control>/restartable/stop|start (workerd's lines about the calls refused
 *                meanwhile go to the request log: divertRefusals)
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestProject } from 'vitest/node'
import { originConfig } from '../../functions/origin/config.ts'
import type { RunningOrigin } from '../../functions/origin/server.ts'
import { launchOrigin } from '../../functions/origin/main.ts'
import { syntheticOriginRelease } from '../../scripts/world/release-world.ts'

export const ORIGIN_TEST_TOKEN = 'edge-to-origin-test-token'

type Name = 'full' | 'slow' | 'narrow' | 'restartable'

declare module 'vitest' {
  export interface ProvidedContext {
    realOrigins: Record<Name, string> & { control: string; token: string }
  }
}

const SETTINGS: Record<Name, Record<string, string>> = {
  full: {},
  slow: { BATCH_WINDOW_MS: '1000' },
  narrow: { MAX_QUEUE: '1', BATCH_WINDOW_MS: '2000' },
  restartable: {},
}

/** The origins' request logs go to a file, not the test output: expected noise, there when a test fails. */
function requestLogFile(project: TestProject): (line: string) => void {
  const file = `.test-results/origins-${project.name}.log`
  mkdirSync('.test-results', { recursive: true })
  writeFileSync(file, '')
  return (line) => appendFileSync(file, line + '\n')
}

/**
 * workerd logs every connection its worker is refused — an exception naming "Connection refused"
 * and an "Uncaught (in promise) … Network connection lost" pair — though the edge catches the
 * fetch's rejection. The vitest plugin writes workerd's log lines to this process's stdout or
 * stderr, with no option to filter them; while `expected()` says the refusals are the test's own,
 * those lines go to `log` instead: expected noise, there when a test fails. Any other line passes.
 */
function divertRefusals(expected: () => boolean, log: (line: string) => void): () => void {
  const REFUSED = /disconnected: Connection refused|Network connection lost/
  const restores = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write
    const divert = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
      if (!expected() || !REFUSED.test(text)) return write.call(this, chunk, ...(rest as []))
      log(text.trimEnd())
      const done = rest.find((r) => typeof r === 'function') as ((err?: Error) => void) | undefined
      if (done) process.nextTick(done)
      return true
    } as typeof stream.write
    stream.write = divert
    // Another project's setup may have wrapped it since: then ours stays, passing every line.
    return () => {
      if (stream.write === divert) stream.write = write
    }
  })
  return () => restores.forEach((restore) => restore())
}

export default async function setup(project: TestProject) {
  const parts = syntheticOriginRelease('models', 'data/worlds/default')
  const log = requestLogFile(project)
  const start = (name: Name, port = 0) =>
    launchOrigin(originConfig({ ORIGIN_TOKEN: ORIGIN_TEST_TOKEN, PORT: String(port), ...SETTINGS[name] }), parts, {
      log,
    })
  const origins = new Map<Name, RunningOrigin>()
  try {
    for (const name of Object.keys(SETTINGS) as Name[]) origins.set(name, await start(name))
  } catch (e) {
    await Promise.all([...origins.values()].map((o) => o.stop()))
    throw e
  }
  const restartPort = Number(new URL(origins.get('restartable')!.url).port)
  // From a stop of the restartable origin until it is back: the edge's calls to it are refused.
  let stopped = false
  const undivert = divertRefusals(() => stopped, log)

  const control = createServer(async (req, res) => {
    const action = req.url?.split('/')[2]
    if (req.method === 'POST' && action === 'stop') {
      stopped = true
      await origins.get('restartable')!.stop()
    } else if (req.method === 'POST' && action === 'start') {
      origins.set('restartable', await start('restartable', restartPort))
      stopped = false
    } else res.statusCode = 404
    res.end()
  })
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve))
  const urls = Object.fromEntries([...origins].map(([name, o]) => [name, o.url])) as Record<Name, string>
  project.provide('realOrigins', {
    ...urls,
    control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    token: ORIGIN_TEST_TOKEN,
  })
  return async () => {
    await new Promise((resolve) => control.close(resolve))
    await Promise.all([...origins.values()].map((o) => o.stop()))
    stopped = false
    undivert()
  }
}
