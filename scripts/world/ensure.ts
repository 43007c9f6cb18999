import { spawnSync } from 'node:child_process'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATOR_VERSION } from './config.ts'
import type { ProvideWorld } from '../../functions/release/release.ts'
import { readWorldManifest } from './store.ts'

/** Reuses the world in `dir` when it is this generator's (preset, seed); otherwise generates it. */
function holds(dir: string, preset: string, seed: number): boolean {
  if (!existsSync(join(dir, 'manifest.json'))) return false
  const m = readWorldManifest(dir)
  return m.preset === preset && m.seed === seed && m.generator_version === GENERATOR_VERSION
}

export function ensureWorld(preset: string, seed: number, dir: string): void {
  if (holds(dir, preset, seed)) {
    console.log(`world: reusing ${dir} (preset ${preset}, seed ${seed}; delete it to regenerate)`)
    return
  }
  // Generated aside and moved in whole, so a reader never meets half a world (two test
  // processes may ask for it at once: the second move finds it there and drops its own).
  const aside = `${dir}.partial-${process.pid}`
  const r = spawnSync(
    'npm',
    ['run', '--silent', 'world', '--', '--preset', preset, '--seed', String(seed), '--out', aside],
    { stdio: 'inherit' },
  )
  if (r.status !== 0) throw new Error(`world generation failed (exit ${r.status})`)
  if (holds(dir, preset, seed)) return void rmSync(aside, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
  try {
    renameSync(aside, dir)
  } catch (e) {
    rmSync(aside, { recursive: true, force: true })
    if (!existsSync(join(dir, 'manifest.json'))) throw e
  }
}

/** The synthetic world a release names, generated into `dir` when missing (functions/release/release.ts `checkReleaseWorld`). */
export const provideWorld: ProvideWorld = (named, dir) => {
  ensureWorld(named.preset, named.seed, dir)
  return readWorldManifest(dir).content_hash
}
