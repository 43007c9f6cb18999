import { Command } from 'commander'
import { SingleBar, Presets } from 'cli-progress'
import { nonNegativeInteger } from '../cli-options.ts'
import { PRESETS, presetConfig } from './config.ts'
import { generateWorld } from './generate.ts'
import { saveWorld } from './store.ts'

const program = new Command('world')
  .description('Generate a SYNTHETIC multimodal search world with a known optimum (see docs/world.md).')
  .option('--preset <name>', `size preset: ${Object.keys(PRESETS).join(' | ')}`, 'smoke')
  .option('--seed <n>', 'random seed; same seed → byte-identical output', nonNegativeInteger, 1)
  .requiredOption('--out <dir>', 'output directory')
  .option('--quiet', 'no progress output')
  .parse()

const opts = program.opts<{ preset: string; seed: number; out: string; quiet?: boolean }>()
const config = presetConfig(opts.preset)
const started = performance.now()
const bars = new Map<string, SingleBar>()
const log = (msg: string) => !opts.quiet && console.error(msg)

log(`world: generating preset=${opts.preset} seed=${opts.seed} (SYNTHETIC data) → ${opts.out}`)
const world = generateWorld(config, opts.seed, (step, done, total) => {
  if (opts.quiet) return
  let bar = bars.get(step)
  if (!bar) {
    bar = new SingleBar(
      {
        format: `  ${step.padEnd(9)} [{bar}] {percentage}% {value}/{total} eta {eta}s`,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      Presets.shades_classic,
    )
    bar.start(total, 0)
    bars.set(step, bar)
  }
  bar.update(done)
  if (done >= total) bar.stop()
})
const manifest = saveWorld(world, opts.out)
const secs = ((performance.now() - started) / 1000).toFixed(1)
const c = manifest.counts
console.log(
  `world: ${c.items} items (${c.families} families, ${c.categories} categories), ${c.users} users, ${c.queries} queries, ` +
    `${c.sessions} sessions (${c.splits.train}/${c.splits.valid}/${c.splits.test} train/valid/test), ${c.candidates} candidates ` +
    `in ${secs}s; content_hash ${manifest.content_hash.slice(0, 16)}`,
)
