/**
 * `npm run train -- --preset smoke|default`: world (if missing) → two-tower (4 ablation variants)
 * → int8 KV embeddings (the shared codec) → ARMMT teacher and its ablations over seeds → edge
 * head distilled from the teacher → ONNX export → parity against onnxruntime-node → evaluation
 * → metrics.json, manifest.json (and, for the default preset, everything published into models/).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { nonNegativeInteger } from '../cli-options.ts'
import { embedVectors, releaseTowers } from '../embed/embed.ts'
import { worldCatalog } from '../embed/world-catalog.ts'
import { evaluate } from '../evaluate/evaluate.ts'
import { BASELINES } from '../evaluate/rankers.ts'
import { retrievalMetrics } from '../evaluate/retrieval.ts'
import { resolvePython } from '../python.ts'
import { ensureWorld } from '../world/ensure.ts'
import { readNpy } from '../world/npy.ts'
import { loadWorld, readManifest } from '../world/store.ts'
import type { ModelSpec } from '../../functions/shared/manifest.ts'
import { parityMaxDiff } from './parity.ts'
import { quantizeEmbeddings } from './quantize.ts'
import { summarizeSeeds } from './seeds.ts'

const PARITY_TOLERANCE = 1e-4

const opts = new Command('train')
  .description('Train, export and evaluate the models on a SYNTHETIC world.')
  .option('--preset <name>', 'smoke | default', 'smoke')
  .option('--seed <n>', 'training seed', nonNegativeInteger, 1)
  .option(
    '--world-seed <n>',
    "world seed; any but 1 trains only the teacher and the head, one model seed each, to show the results are not one world's",
    nonNegativeInteger,
    1,
  )
  .option('--world <dir>', 'world directory (default: data/worlds/PRESET[-seedN], generated if missing)')
  .option('--out <dir>', 'working directory for everything the run writes (default: data/train/PRESET[-seedN])')
  .option(
    '--publish',
    'copy the artifacts, manifest.json and metrics.json into models/ (default for the default preset); for a world seed N other than 1, only metrics.json, as models/metrics.world-seedN.json',
  )
  .option('--no-publish', 'never write into models/')
  .parse()
  .opts<{ preset: string; seed: number; worldSeed: number; world?: string; out?: string; publish?: boolean }>()

const otherWorld = opts.worldSeed !== 1
const suffix = otherWorld ? `-seed${opts.worldSeed}` : ''
const worldDir = opts.world ?? `data/worlds/${opts.preset}${suffix}`
const out = opts.out ?? `data/train/${opts.preset}${suffix}`
const publish = opts.publish ?? opts.preset === 'default'
const started = performance.now()
const seconds = () => Math.round((performance.now() - started) / 1000)
const elapsed = () => `${seconds()}s`
/** Wall-clock seconds of each step, in order (metrics.json `stage_seconds`). */
const stageSeconds: Record<string, number> = {}
let current: { name: string; at: number } | undefined

/** Closes the running step's clock. */
function endStep() {
  if (current) stageSeconds[current.name] = seconds() - current.at
  current = undefined
}

function step(key: string, label: string) {
  endStep()
  current = { name: key, at: seconds() }
  console.log(`\n== train: ${label} [${elapsed()}]`)
}

step('world', `world (${worldDir})`)
ensureWorld(opts.preset, opts.worldSeed, worldDir)
mkdirSync(out, { recursive: true })

const python = resolvePython()
if (!python.ok) throw new Error(`training needs PyTorch: ${python.reason}`)
const pythonBin = python.bin
function trainStage(stage: 'two_tower' | 'rerank') {
  const args = [
    '-m',
    'models.train',
    '--world',
    worldDir,
    '--preset',
    opts.preset,
    '--out',
    out,
    '--stage',
    stage,
    '--seed',
    String(opts.seed),
    '--scope',
    otherWorld ? 'release' : 'full',
  ]
  // The re-rankers train in one-thread processes (models/train.py, Jobs): BLAS and OpenMP pools of
  // their own would only contend with the other process for the same cores.
  const threads = stage === 'rerank' ? { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } : {}
  const py = spawnSync(pythonBin, args, { stdio: 'inherit', env: { ...process.env, ...threads } })
  if (py.status !== 0) process.exit(py.status ?? 1)
  return JSON.parse(readFileSync(join(out, stage, 'summary.json'), 'utf8'))
}

step('two_tower', 'two-tower: text, image, concat, fusion')
const summary = trainStage('two_tower')

step('embeddings', "int8 embeddings for KV: the world as a catalog through npm run embed's towers and codec")
// The SYNTHETIC world is one catalog among others: taken as a Catalog (worldCatalog) and run through
// the same towers on onnxruntime-node, so what the head trains on is what an upload of it carries.
const towers = releaseTowers(summary.onnx, out)
const embeddings = quantizeEmbeddings(await embedVectors(worldCatalog(worldDir), towers), out)
for (const [name, set] of Object.entries(embeddings.sets))
  console.log(
    `  ${name}: ${set.rows} × ${set.dim}, max |x − x̂| ${set.max_abs_error.toExponential(2)}, mean relative error ${(100 * set.mean_relative_error).toFixed(2)} %`,
  )

step(
  'rerank',
  otherWorld
    ? 're-rankers: ARMMT teacher and distilled edge head only'
    : 're-rankers: ARMMT teacher and ablations, distilled edge head',
)
const rerank = trainStage('rerank')
const models: Record<string, ModelSpec> = { ...summary.onnx, ...rerank.onnx }

step('parity', 'parity: onnxruntime-node vs PyTorch')
const parity: Record<string, number> = {}
for (const [name, spec] of Object.entries(models)) {
  parity[name] = await parityMaxDiff(out, spec)
  console.log(`  ${name}: max |ort − torch| = ${parity[name].toExponential(2)}`)
  if (!(parity[name] <= PARITY_TOLERANCE))
    throw new Error(`${name}: parity ${parity[name]} exceeds ${PARITY_TOLERANCE}`)
}

step('evaluation', 'evaluation (test split)')
const world = loadWorld(worldDir)
const worldManifest = readManifest(worldDir)
// Two references ride along: what ranking by the truth earns without any personal taste (crowd),
// and with the tastes a user's own history reveals (history: the ceiling of a model reading it).
const runs: Record<string, Float32Array> = {
  retrieval: BASELINES.retrieval(world),
  crowd_oracle: BASELINES.crowd_oracle(world),
  history_oracle: BASELINES.history_oracle(world),
  oracle: BASELINES.oracle(world),
}
for (const [name, ranker] of Object.entries(rerank.rankers as Record<string, { scores: Record<string, string> }>))
  for (const [seed, file] of Object.entries(ranker.scores)) runs[`${name}#${seed}`] = readNpy(file).data as Float32Array
const ranking = evaluate(world, 'test', runs)
const rankers = summarizeSeeds(ranking.rankers)
for (const [name, m] of Object.entries(rankers))
  console.log(
    `  ${name.padEnd(15)} ndcg@10_true ${m['ndcg@10_true'].toFixed(4)}  share ${m.oracle_gain_share.toFixed(3)}${m.std ? ` ± ${m.std.oracle_gain_share.toFixed(3)}` : ''}  auc ${m.auc.toFixed(4)}  gauc ${m.gauc.toFixed(4)}`,
  )
const gainKept = rankers.head.oracle_gain_share / rankers.armmt.oracle_gain_share
const flopsShare = rerank.flops.head / rerank.flops.armmt
console.log(
  `  head keeps ${(100 * gainKept).toFixed(1)} % of the teacher's NDCG@10 gain at ${(100 * flopsShare).toFixed(1)} % of its FLOPs`,
)
// What reading the history is worth: a model's first seed with the history minus the same model with
// every history hidden (its history-hidden twin is scored on that seed only).
const firstSeed = (name: string) => ranking.rankers[`${name}#${Object.keys(rerank.rankers[name].scores)[0]}`]
const personalization = {
  armmt: firstSeed('armmt').oracle_gain_share - rankers.armmt_history_hidden.oracle_gain_share,
  head: firstSeed('head').oracle_gain_share - rankers.head_history_hidden.oracle_gain_share,
}
console.log(
  `  personalization (share with the history − without): teacher ${personalization.armmt.toFixed(3)}, head ${personalization.head.toFixed(3)}; teacher at ${(100 * (rankers.armmt.history_oracle_gain_share ?? Number.NaN)).toFixed(1)} % of history_oracle`,
)
const twoTower: Record<string, object> = {}
for (const [mode, variant] of Object.entries(summary.variants as Record<string, { dir: string; seconds: number }>)) {
  const q = readNpy(join(variant.dir, 'query_emb.npy'))
  const items = readNpy(join(variant.dir, 'item_emb.npy'))
  const m = retrievalMetrics(world, 'test', q.data as Float32Array, items.data as Float32Array, q.shape[1])
  twoTower[mode] = { ...m, train_seconds: variant.seconds }
  console.log(
    `  two_tower[${mode}]: recall@100 ${m['recall@100'].toFixed(4)}  ndcg@10 ${m['ndcg@10'].toFixed(4)}  (${m.queries} queries)`,
  )
}

endStep() // the evaluation's time goes into metrics.json; publishing is timed in the log only
const metrics = {
  synthetic: true,
  preset: opts.preset,
  split: 'test',
  world: { preset: worldManifest.preset, seed: worldManifest.seed, content_hash: worldManifest.content_hash },
  rankers,
  two_tower: twoTower,
  flops: rerank.flops,
  distillation: { head_gain_share_of_teacher: gainKept, head_flops_share_of_teacher: flopsShare },
  personalization,
  // How much each model trained: the published teacher and head at the full budget, the ablation
  // table (armmt_table is ARMMT at the table's budget) at a smaller one, equal for all its rows.
  budget: {
    teacher: { sessions: rerank.train_sessions, epochs: rerank.epochs },
    table: { sessions: rerank.table_sessions, epochs: rerank.table_epochs },
    head: { sessions: rerank.head_sessions, epochs: rerank.head_epochs },
  },
  // Trained rankers only (a diagnostic such as armmt_history_hidden is scored, not trained).
  train_seconds: Object.fromEntries(
    Object.entries(rerank.rankers as Record<string, { seconds?: number[] }>).flatMap(([n, r]) =>
      r.seconds ? [[n, r.seconds]] : [],
    ),
  ),
  // Wall-clock seconds of each step of this run, up to the evaluation.
  stage_seconds: stageSeconds,
  embeddings: embeddings.sets,
  parity_max_abs_diff: parity,
}
writeFileSync(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n')
// One version names the whole release: the edge head, the teacher and the embeddings it reads.
const version = createHash('sha256')
for (const name of ['armmt', 'edge_head']) version.update(readFileSync(join(out, models[name].file)))
version.update(embeddings.version)
const manifest = {
  version: `rr-${version.digest('hex').slice(0, 12)}`,
  synthetic_world: metrics.world,
  embedding: {
    dim: models.item_tower.outputs[0].shape[1] as number,
    source: 'item_tower (two-tower fusion)',
    version: embeddings.version,
    quantization: { codec: embeddings.codec, dtype: 'int8', scale: 'float32 per vector' },
    kv_prefix: `emb/${embeddings.version}/`,
    files: { items: 'embeddings/items', queries: 'embeddings/queries' },
  },
  models,
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')

if (publish && otherWorld) {
  // Another world only shows the results are not tuned to one: its metrics, never its artifacts.
  step('publish', `publish models/metrics.world-seed${opts.worldSeed}.json`)
  cpSync(join(out, 'metrics.json'), `models/metrics.world-seed${opts.worldSeed}.json`)
} else if (publish) {
  step('publish', 'publish into models/')
  for (const dir of ['onnx', 'parity', 'embeddings']) {
    rmSync(join('models', dir), { recursive: true, force: true })
    cpSync(join(out, dir), join('models', dir), { recursive: true })
  }
  cpSync(join(out, 'metrics.json'), 'models/metrics.json')
  cpSync(join(out, 'manifest.json'), 'models/manifest.json')
  if (opts.preset === 'default') {
    // The edge's test fixtures carry the release's vectors and expected scores: rebuild them with it.
    step('fixtures', 'edge test fixtures from the new release')
    const r = spawnSync('npx', ['tsx', 'scripts/fixtures/build.ts'], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('building the edge fixtures failed')
    step('demo', 'the demo storefront data from the new release')
    const d = spawnSync('npx', ['tsx', 'scripts/demo/data.ts'], { stdio: 'inherit' })
    if (d.status !== 0) throw new Error('building the demo data failed')
  }
}
console.log(`\ntrain: done in ${elapsed()}; wrote ${out}/metrics.json${publish ? ' and published to models/' : ''}`)
