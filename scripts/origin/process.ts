/** `npm run origin` as a process of its own (its own process group), for benchmarks and tests. */
import { spawn, type ChildProcess } from 'node:child_process'

export interface OriginProcess {
  url: string
  child: ChildProcess
  /** SIGTERM to the whole group (npx, tsx, node), resolving when it has exited. */
  stop: () => Promise<void>
}

/** Starts the origin CLI with `env` over this process's environment; resolves once it says it is ready. */
export async function spawnOrigin(env: Record<string, string>): Promise<OriginProcess> {
  const child = spawn('npx', ['tsx', 'scripts/origin/cli.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const ready = /origin: (http:\/\/\S+) ready/.exec(out)
      if (ready) resolve(ready[1])
    })
    child.once('exit', (code) => reject(new Error(`origin process exited ${code}: ${out}`)))
  })
  child.stdout!.resume()
  return { url, child, stop: () => stopGroup(child) }
}

/** SIGTERM to a detached child's whole process group, resolving once the child has exited. */
export function stopGroup(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    process.kill(-child.pid!, 'SIGTERM')
  })
}
