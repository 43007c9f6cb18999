import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATOR_VERSION } from './config.ts'
import { readManifest } from './store.ts'

/** Reuses the world in `dir` when it is this generator's (preset, seed); otherwise generates it. */
export function ensureWorld(preset: string, seed: number, dir: string): void {
  if (existsSync(join(dir, 'manifest.json'))) {
    const m = readManifest(dir)
    if (m.preset === preset && m.seed === seed && m.generator_version === GENERATOR_VERSION) {
      console.log(`world: reusing ${dir} (preset ${preset}, seed ${seed}; delete it to regenerate)`)
      return
    }
  }
  const r = spawnSync(
    'npm',
    ['run', '--silent', 'world', '--', '--preset', preset, '--seed', String(seed), '--out', dir],
    { stdio: 'inherit' },
  )
  if (r.status !== 0) throw new Error(`world generation failed (exit ${r.status})`)
}
