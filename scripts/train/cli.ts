/**
 * `npm run train -- --preset smoke|default`: world (if missing) → two-tower (4 ablation variants)
 * → ONNX export → parity against onnxruntime-node → evaluation → metrics.json and manifest.json.
 * Teacher and edge head stages join this chain next (issue 3, in progress).
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { nonNegativeInteger } from '../cli-options.ts'
import { evaluate } from '../evaluate/evaluate.ts'
import { BASELINES } from '../evaluate/rankers.ts'
import { retrievalMetrics } from '../evaluate/retrieval.ts'
import { resolvePython } from '../python.ts'
import { ensureWorld } from '../world/ensure.ts'
import { readNpy } from '../world/npy.ts'
import { loadWorld, readManifest } from '../world/store.ts'
import { parityMaxDiff, type ModelSpec } from './parity.ts'

const PARITY_TOLERANCE = 1e-4

const opts = new Command('train')
  .description('Train, export and evaluate the models on a SYNTHETIC world.')
  .option('--preset <name>', 'smoke | default', 'smoke')
  .option('--seed <n>', 'training seed', nonNegativeInteger, 1)
  .option('--world <dir>', 'world directory (default: data/worlds/PRESET, generated with seed 1 if missing)')
  .option('--out <dir>', 'working directory for everything the run writes (default: data/train/PRESET)')
  .option('--publish', 'copy the artifacts, manifest.json and metrics.json into models/ (default for the default preset)')
  .option('--no-publish', 'never write into models/')
  .parse()
  .opts<{ preset: string; seed: number; world?: string; out?: string; publish?: boolean }>()

const worldDir = opts.world ?? `data/worlds/${opts.preset}`
const out = opts.out ?? `data/train/${opts.preset}`
const publish = opts.publish ?? opts.preset === 'default'
const started = performance.now()
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`

function step(name: string) {
  console.log(`\n== train: ${name} [${elapsed()}]`)
}

step(`world (${worldDir})`)
ensureWorld(opts.preset, 1, worldDir)
mkdirSync(out, { recursive: true })

step('two-tower: text, image, concat, fusion')
const python = resolvePython()
if (!python.ok) throw new Error(`training needs PyTorch: ${python.reason}`)
const py = spawnSync(python.bin, ['-m', 'models.train', '--world', worldDir, '--preset', opts.preset, '--out', out, '--stage', 'two_tower', '--seed', String(opts.seed)], {
  stdio: 'inherit',
})
if (py.status !== 0) process.exit(py.status ?? 1)
const summary = JSON.parse(readFileSync(join(out, 'two_tower', 'summary.json'), 'utf8'))
const models: Record<string, ModelSpec> = summary.onnx

step('parity: onnxruntime-node vs PyTorch')
const parity: Record<string, number> = {}
for (const [name, spec] of Object.entries(models)) {
  parity[name] = await parityMaxDiff(out, spec)
  console.log(`  ${name}: max |ort − torch| = ${parity[name].toExponential(2)}`)
  if (!(parity[name] <= PARITY_TOLERANCE)) throw new Error(`${name}: parity ${parity[name]} exceeds ${PARITY_TOLERANCE}`)
}

step('evaluation (test split)')
const world = loadWorld(worldDir)
const worldManifest = readManifest(worldDir)
const ranking = evaluate(world, 'test', { retrieval: BASELINES.retrieval(world), oracle: BASELINES.oracle(world) })
const twoTower: Record<string, object> = {}
for (const [mode, variant] of Object.entries(summary.variants as Record<string, { dir: string; seconds: number }>)) {
  const q = readNpy(join(variant.dir, 'query_emb.npy'))
  const items = readNpy(join(variant.dir, 'item_emb.npy'))
  const m = retrievalMetrics(world, 'test', q.data as Float32Array, items.data as Float32Array, q.shape[1])
  twoTower[mode] = { ...m, train_seconds: variant.seconds }
  console.log(`  two_tower[${mode}]: recall@100 ${m['recall@100'].toFixed(4)}  ndcg@10 ${m['ndcg@10'].toFixed(4)}  (${m.queries} queries)`)
}

const metrics = {
  synthetic: true,
  preset: opts.preset,
  split: 'test',
  world: { preset: worldManifest.preset, seed: worldManifest.seed, content_hash: worldManifest.content_hash },
  rankers: ranking.rankers,
  two_tower: twoTower,
  parity_max_abs_diff: parity,
}
writeFileSync(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n')
const manifest = {
  synthetic_world: metrics.world,
  embedding: { dim: (models.item_tower.outputs[0].shape[1] as number), source: 'item_tower (two-tower fusion)' },
  models,
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')

if (publish) {
  step('publish into models/')
  for (const dir of ['onnx', 'parity']) {
    rmSync(join('models', dir), { recursive: true, force: true })
    cpSync(join(out, dir), join('models', dir), { recursive: true })
  }
  cpSync(join(out, 'metrics.json'), 'models/metrics.json')
  cpSync(join(out, 'manifest.json'), 'models/manifest.json')
}
console.log(`\ntrain: done in ${elapsed()}; wrote ${out}/metrics.json${publish ? ' and published to models/' : ''}`)
