/**
 * `npm start`: the main job on the committed defaults. Today that is the synthetic world
 * (default preset, seed 1) and the baseline evaluation; the edge worker takes this
 * command over when it lands (issue 4).
 */
import { spawnSync } from 'node:child_process'
import { ensureWorld } from './world/ensure.ts'

const DIR = 'data/worlds/default'
ensureWorld('default', 1, DIR)
const r = spawnSync('npm', ['run', '--silent', 'evaluate', '--', '--world', DIR], { stdio: 'inherit' })
process.exit(r.status ?? 1)
