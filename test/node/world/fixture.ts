import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { presetConfig } from '../../../scripts/world/config.ts'
import { generateWorld } from '../../../scripts/world/generate.ts'
import type { World } from '../../../scripts/world/world.ts'

const cache = new Map<number, World>()

/** The smoke world for a seed, generated once per test file. */
export function smokeWorld(seed = 1): World {
  if (!cache.has(seed)) cache.set(seed, generateWorld(presetConfig('smoke'), seed))
  return cache.get(seed)!
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `edge-rerank-${prefix}-`))

/** Runs one of the package's npm scripts the way a user does, returning its stdout. */
export function npmRun(script: string, args: string[]): string {
  return execFileSync('npm', ['run', '--silent', script, '--', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}
