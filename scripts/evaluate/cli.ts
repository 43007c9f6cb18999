import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { readNpy } from '../../functions/release/npy.ts'
import { loadWorld, readWorldManifest } from '../world/store.ts'
import { SPLITS, type Split } from '../world/world.ts'
import { evaluate, formatTable } from './evaluate.ts'
import { BASELINES } from './rankers.ts'

const scoresOption = (v: string, prev: Record<string, string>) => {
  const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(v)
  if (!m) throw new InvalidArgumentError('expected NAME=path/to/scores.npy')
  return { ...prev, [m[1]]: m[2] }
}

const program = new Command('evaluate')
  .description(
    'Evaluate the reference rankers (and any model scores) on a synthetic world; prints a table and writes DIR/eval.json.',
  )
  .requiredOption('--world <dir>', 'world directory written by `npm run world`')
  .option('--split <name>', `${SPLITS.join(' | ')}`, 'test')
  .option(
    '--scores <name=file>',
    "extra ranker: float32 .npy with one score per candidate row (all rows, or the split's rows); repeatable",
    scoresOption,
    {},
  )
  .option('--out <file>', 'where to write the JSON (default: WORLD/eval.json)')
  .parse()

const opts = program.opts<{ world: string; split: string; scores: Record<string, string>; out?: string }>()
if (!SPLITS.includes(opts.split as Split)) program.error(`--split must be one of ${SPLITS.join(', ')}`)
const split = opts.split as Split
const started = performance.now()
const manifest = readWorldManifest(opts.world)
const world = loadWorld(opts.world)
const scores: Record<string, Float32Array> = {}
for (const [name, ranker] of Object.entries(BASELINES)) scores[name] = ranker(world)
for (const [name, file] of Object.entries(opts.scores)) {
  const a = readNpy(file)
  if (a.dtype !== 'float32' || a.shape.length !== 1)
    program.error(`--scores ${name}: expected a 1-d float32 array, got ${a.dtype} [${a.shape}]`)
  scores[name] = a.data as Float32Array
}
const ev = evaluate(world, split, scores)
const out = opts.out ?? join(opts.world, 'eval.json')
const report = {
  synthetic: true,
  world: {
    preset: manifest.preset,
    seed: manifest.seed,
    generator_version: manifest.generator_version,
    content_hash: manifest.content_hash,
  },
  ...ev,
}
writeFileSync(out, JSON.stringify(report, null, 2) + '\n')
console.log(
  `evaluate: SYNTHETIC world preset=${manifest.preset} seed=${manifest.seed}, split=${split}: ${ev.sessions} sessions, ${ev.candidates} candidates`,
)
console.log(formatTable(ev))
console.log(`evaluate: wrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)}s`)
