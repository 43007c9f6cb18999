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
import { readNpy } from '../../functions/release/npy.ts'
import { loadWorld, readWorldManifest, type WorldManifest } from '../world/store.ts'
import type { World } from '../world/world.ts'
import type { ModelSpec } from '../../functions/release/manifest.ts'
import { parityMaxDiff } from './parity.ts'
import { quantizeEmbeddings } from './quantize.ts'
import { summarizeSeeds, type SeededMetrics } from './seeds.ts'

const PARITY_TOLERANCE = 1e-4

interface Options {
  preset: string
  seed: number
  worldSeed: number
  world?: string
  out?: string
  publish?: boolean
}

/** Where this run reads and writes, from the options. */
interface Run {
  opts: Options
  /** A world seed other than 1: only the teacher and the head, to show the results are not one world's. */
  otherWorld: boolean
  worldDir: string
  out: string
  publish: boolean
}

/** models/train.py's summary.json of the two_tower stage. */
interface TwoTowerSummary {
  variants: Record<string, { dir: string; seconds: number }>
  onnx: Record<string, ModelSpec>
}

/** models/train.py's summary.json of the rerank stage. */
interface RerankSummary {
  /** A diagnostic such as armmt_history_hidden is scored, not trained: no seconds. */
  rankers: Record<string, { scores: Record<string, string>; seconds?: number[] }>
  onnx: Record<string, ModelSpec>
  flops: { armmt: number; head: number; reference: { candidates: number; history: number } }
  train_sessions: number
  table_sessions: number
  head_sessions: number
  epochs: number
  table_epochs: number
  head_epochs: number
}

type Embeddings = ReturnType<typeof quantizeEmbeddings>

function parseOptions(): Options {
  return new Command('train')
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
    .opts<Options>()
}

function resolveRun(opts: Options): Run {
  const otherWorld = opts.worldSeed !== 1
  const suffix = otherWorld ? `-seed${opts.worldSeed}` : ''
  return {
    opts,
    otherWorld,
    worldDir: opts.world ?? `data/worlds/${opts.preset}${suffix}`,
    out: opts.out ?? `data/train/${opts.preset}${suffix}`,
    publish: opts.publish ?? opts.preset === 'default',
  }
}

/** The run's clock: a banner per step, and each step's wall-clock seconds (metrics.json `stage_seconds`). */
class Steps {
  readonly seconds: Record<string, number> = {}
  private readonly started = performance.now()
  private current: { name: string; at: number } | undefined

  now() {
    return Math.round((performance.now() - this.started) / 1000)
  }

  elapsed() {
    return `${this.now()}s`
  }

  start(key: string, label: string) {
    this.end()
    this.current = { name: key, at: this.now() }
    console.log(`\n== train: ${label} [${this.elapsed()}]`)
  }

  /** Closes the running step's clock. */
  end() {
    if (this.current) this.seconds[this.current.name] = this.now() - this.current.at
    this.current = undefined
  }
}

/** Runs one stage of models/train.py and reads its summary.json. */
function trainStage(run: Run, pythonBin: string, stage: 'two_tower' | 'rerank') {
  const args = [
    '-m',
    'models.train',
    '--world',
    run.worldDir,
    '--preset',
    run.opts.preset,
    '--out',
    run.out,
    '--stage',
    stage,
    '--seed',
    String(run.opts.seed),
    '--scope',
    run.otherWorld ? 'release' : 'full',
  ]
  // The re-rankers train in one-thread processes (models/train.py, Jobs): BLAS and OpenMP pools of
  // their own would only contend with the other process for the same cores.
  const threads = stage === 'rerank' ? { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } : {}
  const py = spawnSync(pythonBin, args, { stdio: 'inherit', env: { ...process.env, ...threads } })
  if (py.status !== 0) process.exit(py.status ?? 1)
  return JSON.parse(readFileSync(join(run.out, stage, 'summary.json'), 'utf8'))
}

/** The SYNTHETIC world is one catalog among others: taken as a Catalog (worldCatalog) and run through
 *  the same towers on onnxruntime-node, so what the head trains on is what an upload of it carries. */
async function embedForKv(run: Run, twoTower: TwoTowerSummary): Promise<Embeddings> {
  const towers = releaseTowers(twoTower.onnx, run.out)
  const embeddings = quantizeEmbeddings(await embedVectors(worldCatalog(run.worldDir), towers), run.out)
  for (const [name, set] of Object.entries(embeddings.sets))
    console.log(
      `  ${name}: ${set.rows} × ${set.dim}, max |x − x̂| ${set.max_abs_error.toExponential(2)}, mean relative error ${(100 * set.mean_relative_error).toFixed(2)} %`,
    )
  return embeddings
}

async function checkParity(run: Run, models: Record<string, ModelSpec>): Promise<Record<string, number>> {
  const parity: Record<string, number> = {}
  for (const [name, spec] of Object.entries(models)) {
    parity[name] = await parityMaxDiff(run.out, spec)
    console.log(`  ${name}: max |ort − torch| = ${parity[name].toExponential(2)}`)
    if (!(parity[name] <= PARITY_TOLERANCE))
      throw new Error(`${name}: parity ${parity[name]} exceeds ${PARITY_TOLERANCE}`)
  }
  return parity
}

/** Every re-ranker's test scores, one run per seed (`NAME#SEED`), next to the baselines. */
function rankerRuns(world: World, rerank: RerankSummary): Record<string, Float32Array> {
  // Two references ride along: what ranking by the truth earns without any personal taste (crowd),
  // and with the tastes a user's own history reveals (history: the ceiling of a model reading it).
  const runs: Record<string, Float32Array> = {
    retrieval: BASELINES.retrieval(world),
    crowd_oracle: BASELINES.crowd_oracle(world),
    history_oracle: BASELINES.history_oracle(world),
    oracle: BASELINES.oracle(world),
  }
  for (const [name, ranker] of Object.entries(rerank.rankers))
    for (const [seed, file] of Object.entries(ranker.scores))
      runs[`${name}#${seed}`] = readNpy(file).data as Float32Array
  return runs
}

function evaluateRerankers(world: World, rerank: RerankSummary) {
  const ranking = evaluate(world, 'test', rankerRuns(world, rerank))
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
  return { rankers, gainKept, flopsShare, personalization }
}

function evaluateTwoTower(world: World, twoTower: TwoTowerSummary): Record<string, object> {
  const metrics: Record<string, object> = {}
  for (const [mode, variant] of Object.entries(twoTower.variants)) {
    const q = readNpy(join(variant.dir, 'query_emb.npy'))
    const items = readNpy(join(variant.dir, 'item_emb.npy'))
    const m = retrievalMetrics(world, 'test', q.data as Float32Array, items.data as Float32Array, q.shape[1])
    metrics[mode] = { ...m, train_seconds: variant.seconds }
    console.log(
      `  two_tower[${mode}]: recall@100 ${m['recall@100'].toFixed(4)}  ndcg@10 ${m['ndcg@10'].toFixed(4)}  (${m.queries} queries)`,
    )
  }
  return metrics
}

interface Evaluation {
  /** The world evaluated on, as metrics.json and manifest.json name it. */
  world: Pick<WorldManifest, 'preset' | 'seed' | 'content_hash'>
  rankers: Record<string, SeededMetrics>
  gainKept: number
  flopsShare: number
  personalization: { armmt: number; head: number }
  twoTower: Record<string, object>
}

function evaluateRun(run: Run, twoTower: TwoTowerSummary, rerank: RerankSummary): Evaluation {
  const world = loadWorld(run.worldDir)
  const { preset, seed, content_hash } = readWorldManifest(run.worldDir)
  const rerankers = evaluateRerankers(world, rerank)
  return { world: { preset, seed, content_hash }, ...rerankers, twoTower: evaluateTwoTower(world, twoTower) }
}

function writeMetrics(
  run: Run,
  evaluation: Evaluation,
  rerank: RerankSummary,
  stageSeconds: Record<string, number>,
  embeddings: Embeddings,
  parity: Record<string, number>,
) {
  const metrics = {
    synthetic: true,
    preset: run.opts.preset,
    split: 'test',
    world: evaluation.world,
    rankers: evaluation.rankers,
    two_tower: evaluation.twoTower,
    flops: rerank.flops,
    distillation: {
      head_gain_share_of_teacher: evaluation.gainKept,
      head_flops_share_of_teacher: evaluation.flopsShare,
    },
    personalization: evaluation.personalization,
    // How much each model trained: the published teacher and head at the full budget, the ablation
    // table (armmt_table is ARMMT at the table's budget) at a smaller one, equal for all its rows.
    budget: {
      teacher: { sessions: rerank.train_sessions, epochs: rerank.epochs },
      table: { sessions: rerank.table_sessions, epochs: rerank.table_epochs },
      head: { sessions: rerank.head_sessions, epochs: rerank.head_epochs },
    },
    // Trained rankers only (a diagnostic such as armmt_history_hidden is scored, not trained).
    train_seconds: Object.fromEntries(
      Object.entries(rerank.rankers).flatMap(([n, r]) => (r.seconds ? [[n, r.seconds]] : [])),
    ),
    // Wall-clock seconds of each step of this run, up to the evaluation.
    stage_seconds: stageSeconds,
    embeddings: embeddings.sets,
    parity_max_abs_diff: parity,
  }
  writeFileSync(join(run.out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n')
}

function writeManifest(
  run: Run,
  world: Evaluation['world'],
  models: Record<string, ModelSpec>,
  embeddings: Embeddings,
) {
  // One version names the whole release: the edge head, the teacher and the embeddings it reads.
  const version = createHash('sha256')
  for (const name of ['armmt', 'edge_head']) version.update(readFileSync(join(run.out, models[name].file)))
  version.update(embeddings.version)
  const manifest = {
    version: `rr-${version.digest('hex').slice(0, 12)}`,
    synthetic_world: world,
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
  writeFileSync(join(run.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
}

function publishRelease(run: Run, steps: Steps) {
  const { opts, out } = run
  if (run.otherWorld) {
    // Another world only shows the results are not tuned to one: its metrics, never its artifacts.
    steps.start('publish', `publish models/metrics.world-seed${opts.worldSeed}.json`)
    cpSync(join(out, 'metrics.json'), `models/metrics.world-seed${opts.worldSeed}.json`)
    return
  }
  steps.start('publish', 'publish into models/')
  for (const dir of ['onnx', 'parity', 'embeddings']) {
    rmSync(join('models', dir), { recursive: true, force: true })
    cpSync(join(out, dir), join('models', dir), { recursive: true })
  }
  cpSync(join(out, 'metrics.json'), 'models/metrics.json')
  cpSync(join(out, 'manifest.json'), 'models/manifest.json')
  if (opts.preset === 'default') rebuildFromRelease(steps)
}

/** The edge's test fixtures and the demo carry the release's vectors and expected scores: rebuild them with it. */
function rebuildFromRelease(steps: Steps) {
  steps.start('fixtures', 'edge test fixtures from the new release')
  const r = spawnSync('npx', ['tsx', 'scripts/fixtures/build.ts'], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('building the edge fixtures failed')
  steps.start('demo', 'the demo storefront data from the new release')
  const d = spawnSync('npx', ['tsx', 'scripts/demo/data.ts'], { stdio: 'inherit' })
  if (d.status !== 0) throw new Error('building the demo data failed')
}

async function main() {
  const run = resolveRun(parseOptions())
  const steps = new Steps()

  steps.start('world', `world (${run.worldDir})`)
  ensureWorld(run.opts.preset, run.opts.worldSeed, run.worldDir)
  mkdirSync(run.out, { recursive: true })
  const python = resolvePython()
  if (!python.ok) throw new Error(`training needs PyTorch: ${python.reason}`)

  steps.start('two_tower', 'two-tower: text, image, concat, fusion')
  const twoTower: TwoTowerSummary = trainStage(run, python.bin, 'two_tower')

  steps.start('embeddings', "int8 embeddings for KV: the world as a catalog through npm run embed's towers and codec")
  const embeddings = await embedForKv(run, twoTower)

  steps.start(
    'rerank',
    run.otherWorld
      ? 're-rankers: ARMMT teacher and distilled edge head only'
      : 're-rankers: ARMMT teacher and ablations, distilled edge head',
  )
  const rerank: RerankSummary = trainStage(run, python.bin, 'rerank')
  const models: Record<string, ModelSpec> = { ...twoTower.onnx, ...rerank.onnx }

  steps.start('parity', 'parity: onnxruntime-node vs PyTorch')
  const parity = await checkParity(run, models)

  steps.start('evaluation', 'evaluation (test split)')
  const evaluation = evaluateRun(run, twoTower, rerank)
  steps.end() // the evaluation's time goes into metrics.json; publishing is timed in the log only

  writeMetrics(run, evaluation, rerank, steps.seconds, embeddings, parity)
  writeManifest(run, evaluation.world, models, embeddings)
  if (run.publish) publishRelease(run, steps)
  console.log(
    `\ntrain: done in ${steps.elapsed()}; wrote ${run.out}/metrics.json${run.publish ? ' and published to models/' : ''}`,
  )
}

await main()
