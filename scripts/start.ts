/**
 * `npm start`: the main job on the committed defaults. Today that is the synthetic world
 * (default preset, seed 1) and the baseline evaluation; the edge worker takes this
 * command over when it lands (issue 4).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { GENERATOR_VERSION } from './world/config.ts'

const DIR = 'data/worlds/default'
const SEED = '1'

function run(script: string, args: string[]): void {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const manifestPath = `${DIR}/manifest.json`
const current =
  existsSync(manifestPath) &&
  ((m) => m.preset === 'default' && String(m.seed) === SEED && m.generator_version === GENERATOR_VERSION)(JSON.parse(readFileSync(manifestPath, 'utf8')))
if (current) console.log(`start: reusing the world in ${DIR} (delete it to regenerate)`)
else run('world', ['--preset', 'default', '--seed', SEED, '--out', DIR])
run('evaluate', ['--world', DIR])
