/** A `wrangler dev` process on a free local port: start it, wait until it serves, stop it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { stopGroup } from '../origin/process.ts'
import { wranglerEnv } from '../wrangler-env.ts'

export interface DevServer {
  url: string
  /** ms from spawn to "Ready on". */
  startMs: number
  stop: () => Promise<void>
}

export async function startWranglerDev(
  port: number,
  vars: Record<string, string> = {},
  { persistTo }: { persistTo?: string } = {},
): Promise<DevServer> {
  const started = performance.now()
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--show-interactive-dev-session=false',
    ...(persistTo ? ['--persist-to', persistTo] : []),
  ]
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`)
  const child: ChildProcess = spawn('npx', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: wranglerEnv(),
  })
  const url = `http://127.0.0.1:${port}`
  const stop = () => stopGroup(child)
  let log = ''
  child.stdout!.on('data', (d) => (log += d))
  child.stderr!.on('data', (d) => (log += d))
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`)
    try {
      // /healthz does not touch the head, so the first /v1/rerank still meets a cold session.
      if ((await fetch(`${url}/healthz`)).ok) return { url, startMs: performance.now() - started, stop }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await stop()
  throw new Error(`wrangler dev did not become ready in 120 s:\n${log}`)
}
