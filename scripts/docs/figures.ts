/**
 * `npm run docs:figures`: the figures the README and docs/ quote, generated from the committed
 * results (data/bench/*.json, models/metrics*.json) into marked blocks:
 *
 *   <!-- figures:NAME -->
 *   …generated…
 *   <!-- /figures:NAME -->
 *
 * `--check` rewrites nothing and fails on a block that differs from what the results give (a test
 * runs it), so a page never quotes a figure its results file does not hold.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { renderEdgeBench, type EdgeResults } from '../bench/edge-report.ts'
import type { WorldFigures } from '../bench/world.ts'
import type { EmbedRun } from '../bench/embed.ts'
import type { EventsResults } from '../bench/events.ts'
import type { LogsRun } from '../bench/logs.ts'
import { median } from '../bench/stats.ts'
import { formatTable, type Evaluation } from '../evaluate/evaluate.ts'
import { BASELINES } from '../evaluate/rankers.ts'
import { presetConfig } from '../world/config.ts'

/** The pages that carry generated blocks. */
export const PAGES = [
  'README.md',
  'docs/edge.md',
  'docs/origin.md',
  'docs/world.md',
  'docs/training.md',
  'docs/evaluation.md',
  'docs/operations.md',
  'docs/catalog.md',
  'docs/events.md',
  'docs/data.md',
]

interface OriginRun {
  batching: 'off' | 'on'
  clients: number
  p50: number
  p99: number
  rps: number
  origin_cpu_ms_per_request: number
  mean_batch: number
}
interface OriginResults {
  when: string
  node: string
  seconds_per_run: number
  gain: { end_to_end: Record<string, number>; model_alone_32: number }
  runs: OriginRun[]
}

interface WorldResults {
  when: string
  node: string
  seed: number
  presets: Record<string, WorldFigures>
}

interface EmbedResults {
  when: string
  node: string
  cpus: number
  load_before: number
  catalog: { items: number; queries: number }
  batch: number
  output: { records: number; files: string[] }
  runs: EmbedRun[]
  median_items_per_s: number
}

interface LogsResults {
  when: string
  node: string
  cpus: number
  load_before: number
  duckdb_memory_limit: string
  runs: LogsRun[]
}

interface Sources {
  world: WorldResults
  events: EventsResults
  logs: LogsResults
  embed: EmbedResults
  edge: EdgeResults
  origin: OriginResults
  metrics: Metrics
  /** The same chain on a second world (`--world-seed 2`). */
  metrics2: Metrics
}

type Metric = 'ndcg@10_true' | 'oracle_gain_share' | 'history_oracle_gain_share' | 'auc' | 'gauc'
interface Ranker extends Record<Metric, number> {
  oracle_gain_share: number
  history_oracle_gain_share: number
  'ndcg@10': number
  mrr: number
  exp_purchases: number
  oracle_gain_share_labels: number
  std?: Record<Metric, number>
  /** The training seeds the figure is the mean over. */
  seeds?: number[]
}
type Budget = { sessions: number; epochs: number }
interface Metrics {
  preset: string
  split: 'train' | 'valid' | 'test'
  rankers: Record<string, Ranker>
  budget: { teacher: Budget; table: Budget; head: Budget }
  flops: { armmt: number; head: number }
  distillation: { head_gain_share_of_teacher: number; head_flops_share_of_teacher: number }
  stage_seconds: Record<string, number>
  world: { seed: number; content_hash: string }
  two_tower: Record<string, { 'recall@100': number; 'ndcg@10': number; queries: number; train_seconds: number }>
  embeddings: { items: { rows: number } }
  personalization: { armmt: number; head: number }
  train_seconds: Record<string, number[]>
  parity_max_abs_diff: Record<string, number>
}

function readSources(): Sources {
  const json = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T
  return {
    world: json<WorldResults>('data/bench/world.json'),
    events: json<EventsResults>('data/bench/events.json'),
    logs: json<LogsResults>('data/bench/logs.json'),
    embed: json<EmbedResults>('data/bench/embed.json'),
    edge: json<EdgeResults>('data/bench/edge.json'),
    origin: json<OriginResults>('data/bench/origin.json'),
    metrics: json<Metrics>('models/metrics.json'),
    metrics2: json<Metrics>('models/metrics.world-seed2.json'),
  }
}

// ---- the blocks ----------------------------------------------------------------------------

const ms = (x: number) => `${x.toFixed(2)} ms`
const verdict = (met: boolean) => (met ? 'met' : '**missed**')

/** The edge against its targets (issue-set targets; the measured side from the committed run). */
function edgeTargets({ edge }: Sources): string {
  const rr = edge.client!.miniflare['rerank, cache miss']
  const hz = edge.client!.miniflare['/healthz (one KV read)']
  const share4 = rr.rps[4] / hz.rps[4]
  const peak = median(edge.simd_peak_gflops!)
  const kernel100 = edge.head!.find((h) => h.backend === 'kernel' && h.l === 100)!
  const w = edge.worker!
  const cold = edge.cold!
  const rows: [string, string, string, boolean][] = [
    [
      "the worker's own time per request, in the isolate",
      '≤ 0.3 ms',
      `${ms(w.own_ms_p50)} p50 (${ms(w.own_ms_p99)} p99); a bare Hono app on the same exchange: ${ms(w.floor_ms_p50)}`,
      w.own_ms_p50 <= 0.3,
    ],
    ...(w.own_without_event_log_ms_p50 === undefined
      ? []
      : ([
          [
            "the impression's cost to the worker's own time (with the event log bound, minus without)",
            '≤ 0.02 ms',
            `${ms(w.own_ms_p50 - w.own_without_event_log_ms_p50)} (${ms(w.own_ms_p50)} − ${ms(w.own_without_event_log_ms_p50)}); the record alone ${edge.steps_ms!.impression.toFixed(3)} ms, its send to the local queue ${ms(edge.steps_ms!.impression_send)} (wall, awaited), both after the response`,
            w.own_ms_p50 - w.own_without_event_log_ms_p50 <= 0.02,
          ],
        ] as [string, string, string, boolean][])),
    [
      "a fresh isolate's first rerank: the worker's own part (total − KV)",
      '≤ 5 ms',
      `${ms(cold.own_ms)} (at the client ${ms(cold.client_ms_p50)}, of which local KV ${ms(cold.kv_ms)})`,
      cold.own_ms <= 5,
    ],
    [
      'bundle, default build',
      '≤ 200 KB gzip',
      `${edge.bundle.default_gzip_kib.toFixed(1)} KiB gzip`,
      edge.bundle.default_gzip_kib * 1024 <= 200_000,
    ],
    ['req/s at 4 connections vs `/healthz`', '≥ 90 %', `${(100 * share4).toFixed(0)} %`, share4 >= 0.9],
    [
      'head compute vs the WASM SIMD peak (L = 100)',
      '≥ 60 %',
      `${((100 * kernel100.gflops) / peak).toFixed(0)} % of the in-workerd loop (${((100 * kernel100.gflops) / edge.simd_peak_node_gflops!).toFixed(0)} % of the same loop in Node)`,
      kernel100.gflops / peak >= 0.6,
    ],
  ]
  return [
    `\`npm run bench:edge\`, ${edge.when.slice(0, 10)}, Node ${edge.node}, ${edge.request.candidates} candidates and ${edge.request.history} history items, SYNTHETIC world (\`data/bench/edge.json\`):`,
    '',
    '| what | target | measured | |',
    '|---|---|---|---|',
    ...rows.map(([what, target, measured, met]) => `| ${what} | ${target} | ${measured} | ${verdict(met)} |`),
  ].join('\n')
}

/** The benchmark's full report, as it printed. */
function edgeBench({ edge }: Sources): string {
  return ['```', renderEdgeBench(edge), '```'].join('\n')
}

const RESULT_ROWS: [key: string, label: string, flops?: 'armmt' | 'head'][] = [
  ['retrieval', 'retrieval order'],
  ['crowd_oracle', 'crowd oracle (a reference)'],
  ['armmt', '**ARMMT teacher** (origin)', 'armmt'],
  ['armmt_history_hidden', 'ARMMT, every history hidden'],
  ['head', '**edge head** (distilled)', 'head'],
  ['head_history_hidden', 'edge head, every history hidden'],
  ['history_oracle', 'history oracle (a reference)'],
]

/** Each ranker's share of the oracle's gain, test split, mean ± std over the seeds. */
function results({ metrics }: Sources): string {
  const f3 = (x: number) => (x === 0 ? '0' : x.toFixed(3))
  const row = ([key, label, flops]: (typeof RESULT_ROWS)[number]) => {
    const r = metrics.rankers[key]
    const share =
      r.std && (r.seeds?.length ?? 0) > 1
        ? `${f3(r.oracle_gain_share)} ± ${f3(r.std.oracle_gain_share)}`
        : f3(r.oracle_gain_share)
    const bold = label.startsWith('**') ? `**${share}**` : share
    const cost = flops ? `${(metrics.flops[flops] / 1e6).toFixed(1)} M` : ''
    return `| ${label} | ${bold} | ${f3(r.history_oracle_gain_share)} | ${cost} |`
  }
  return [
    "| ranker | share of the oracle's gain | of `history_oracle`'s | FLOPs / request |",
    '|---|---|---|---|',
    ...RESULT_ROWS.map(row),
  ].join('\n')
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`

/** The results table's reading against the targets: the teacher, what the history is worth, the head. */
function resultsSummary({ metrics, metrics2 }: Sources): string {
  const r = metrics.rankers
  const teacher = r.armmt.oracle_gain_share
  const ofHistoryOracle = r.armmt.history_oracle_gain_share
  const points = (a: string, b: string) => (100 * (r[a].oracle_gain_share - r[b].oracle_gain_share)).toFixed(0)
  const kept = metrics.distillation.head_gain_share_of_teacher
  const kept2 = metrics2.distillation.head_gain_share_of_teacher
  return [
    `The teacher reaches ${teacher.toFixed(3)} of the oracle's gain, ${pct(ofHistoryOracle)} of \`history_oracle\`'s`,
    `(target 0.55, 70 %: ${verdict(teacher >= 0.55 && ofHistoryOracle >= 0.7)}). The history is worth`,
    `${points('armmt', 'armmt_history_hidden')} points to it and ${points('head', 'head_history_hidden')} to the head,`,
    `which keeps ${pct(kept)} of its gain (target 95 %: ${verdict(kept >= 0.95)}) at`,
    `${pct(metrics.distillation.head_flops_share_of_teacher)} of its FLOPs. On a second world (\`--world-seed 2\`,`,
    `\`models/metrics.world-seed2.json\`) the teacher gets ${metrics2.rankers.armmt.oracle_gain_share.toFixed(3)} and the`,
    `head ${metrics2.rankers.head.oracle_gain_share.toFixed(3)}, ${pct(kept2)} of it (${verdict(kept2 >= 0.95)}).`,
  ].join('\n')
}

/** Each origin run of `bench:origin`: batching off and on, by client count. */
function originRuns({ origin }: Sources): string {
  const row = (r: OriginRun) =>
    `| ${r.batching} | ${r.clients} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rps.toFixed(0)} | ${r.origin_cpu_ms_per_request.toFixed(2)} | ${r.mean_batch.toFixed(1)} |`
  const gains = Object.entries(origin.gain.end_to_end)
    .map(([clients, g]) => `${g.toFixed(2)}× at ${clients} clients`)
    .join(', ')
  return [
    `\`npm run bench:origin\`, ${origin.when.slice(0, 10)}, Node ${origin.node}, ${origin.seconds_per_run} s per run, SYNTHETIC catalog (\`data/bench/origin.json\`):`,
    '',
    '| batching | clients | p50 ms | p99 ms | req/s | origin CPU ms / request | mean batch |',
    '|---|---|---|---|---|---|---|',
    ...origin.runs.map(row),
    '',
    `Batching's end-to-end gain: ${gains}; the model alone, 32 requests per call against one: ${origin.gain.model_alone_32.toFixed(2)}× (the ceiling, same run).`,
  ].join('\n')
}

function originTargets({ origin }: Sources): string {
  const at = (batching: string, clients: number) =>
    origin.runs.find((r) => r.batching === batching && r.clients === clients)!
  const worst1 = Math.max(at('off', 1).p50, at('on', 1).p50)
  const gain32 = origin.gain.end_to_end['32']
  return [
    '| what | target | measured | |',
    '|---|---|---|---|',
    `| p50 at 1 client, CPU | ≤ 15 ms | ${ms(at('off', 1).p50)} with batching off, ${ms(at('on', 1).p50)} on | ${verdict(worst1 <= 15)} |`,
    `| batching at 32 clients | ≥ 3× the unbatched req/s | ${gain32.toFixed(2)}× (the model alone: ${origin.gain.model_alone_32.toFixed(2)}×) | ${verdict(gain32 >= 3)} |`,
  ].join('\n')
}

/** Each preset's world: its counts, and what generating it took. */
function worldSizes({ world }: Sources): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const row = ([preset, w]: [string, WorldFigures]) =>
    `| \`${preset}\` | ${n(w.counts.items)} (${n(w.counts.families)}) | ${w.counts.categories} | ${n(w.counts.users)} | ${n(w.counts.queries)} | ${n(w.counts.sessions)} | ${n(w.counts.candidates)} | ${w.seconds.toFixed(1)} s | ${w.disk_mb.toFixed(1)} MB | ${w.peak_rss_mb.toFixed(0)} MB |`
  return [
    `\`npm run bench:world\`, ${world.when.slice(0, 10)}, Node ${world.node}, seed ${world.seed} (\`data/bench/world.json\`; each world generated from scratch by \`npm run world\`'s command under GNU time):`,
    '',
    '| preset | items (families) | categories | users | queries | sessions | candidates | time | disk | peak RSS |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(world.presets).map(row),
  ].join('\n')
}

/** How long the committed release took to train, stage by stage. */
function trainingTime({ metrics }: Sources): string {
  const stages = Object.entries(metrics.stage_seconds)
  const total = stages.reduce((sum, [, s]) => sum + s, 0)
  return [
    `The committed release (\`--preset default\`) took ${(total / 60).toFixed(0)} min on this 2-core machine:`,
    stages.map(([stage, s]) => `${stage} ${s.toLocaleString('en-US')} s`).join(', '),
    '(`models/metrics.json` → `stage_seconds`).',
  ].join(' ')
}

const n = (x: number) => x.toLocaleString('en-US')
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
/** A figure to `digits` places; 0 and 1 (retrieval's and the oracle's by definition) as they are. */
const fx = (x: number, digits: number) => (Number.isInteger(x) ? String(x) : x.toFixed(digits))
/** A ranker's metric, ± the std over its seeds when there are several. */
function withStd(r: Ranker, m: Metric, digits: number): string {
  return r.std && (r.seeds?.length ?? 0) > 1 ? `${fx(r[m], digits)} ± ${r.std[m].toFixed(digits)}` : fx(r[m], digits)
}

const TWO_TOWER_ROWS: [key: string, label: string][] = [
  ['text', 'text only'],
  ['image', 'image only'],
  ['concat', 'naive concat'],
  ['fusion', 'fusion (two-stage)'],
]

/** The two-tower ablation over the whole catalog, and whether the paper's order holds. */
function twoTower({ metrics }: Sources): string {
  const t = metrics.two_tower
  const best = Math.max(...Object.values(t).map((v) => v['recall@100']))
  const row = ([key, label]: (typeof TWO_TOWER_ROWS)[number]) => {
    const v = t[key]
    const recall = v['recall@100'].toFixed(4)
    return `| ${label} | ${v['recall@100'] === best ? `**${recall}**` : recall} | ${v['ndcg@10'].toFixed(4)} | ${v.train_seconds.toFixed(0)} s |`
  }
  const order = (m: 'recall@100' | 'ndcg@10') =>
    t.text[m] < t.concat[m] && t.concat[m] < t.fusion[m] ? 'holds' : '**does not hold**'
  return [
    `Default preset, world seed ${metrics.world.seed}: ${n(t.fusion.queries)} test queries with a click, each scored against all ${n(metrics.embeddings.items.rows)} items (\`models/metrics.json\` → \`two_tower\`):`,
    '',
    '| item tower | Recall@100 | NDCG@10 | train time |',
    '|---|---|---|---|',
    ...TWO_TOWER_ROWS.map(row),
    '',
    `The paper's order, text-only < concat < fusion, ${order('recall@100')} on Recall@100 and ${order('ndcg@10')} on NDCG@10.`,
  ].join('\n')
}

const RERANK_ROWS: [key: string, label: string, budget: string][] = [
  ['retrieval', 'retrieval order', ''],
  ['armmt', '**ARMMT (teacher)**', 'full'],
  ['armmt_history_hidden', 'ARMMT seed 1, every history hidden (diagnostic)', 'full'],
  ['head', '**edge head** (distilled from the seed-1 teacher)', 'full'],
  ['head_history_hidden', 'edge head seed 1, every history hidden (diagnostic)', 'full'],
  ['pointwise_text', 'pointwise MLP, text only', 'table'],
  ['prm', 'PRM-style list transformer, text + image', 'table'],
  ['armmt_no_cafu', 'ARMMT without CAFU', 'table'],
  ['armmt_no_aux', 'ARMMT without the auxiliary task', 'table'],
  ['armmt_table', 'ARMMT', 'table'],
  ['crowd_oracle', 'crowd oracle (truth for the average user; a reference, not a model)', ''],
  ['history_oracle', 'history oracle (tastes estimated from the history; a reference)', ''],
  ['oracle', 'oracle', ''],
]

/** Every re-ranker and reference on the test split: NDCG, shares, AUCs, train time per seed. */
function rerankResults({ metrics }: Sources): string {
  const row = ([key, label, budget]: (typeof RERANK_ROWS)[number]) => {
    const r = metrics.rankers[key]
    const share = withStd(r, 'oracle_gain_share', 3)
    const seconds = metrics.train_seconds[key]
    return `| ${label} | ${budget} | ${withStd(r, 'ndcg@10_true', 4)} | ${label.startsWith('**') ? `**${share}**` : share} | ${fx(r.history_oracle_gain_share, 3)} | ${withStd(r, 'auc', 4)} | ${withStd(r, 'gauc', 4)} | ${seconds ? `${n(Math.round(mean(seconds)))} s` : ''} |`
  }
  return [
    '| ranker | budget | NDCG@10 (true) | share of oracle gain | of history | AUC | GAUC | train time / seed |',
    '|---|---|---|---|---|---|---|---|',
    ...RERANK_ROWS.map(row),
  ].join('\n')
}

/** What a request costs each model, the ONNX files' sizes, and their parity with PyTorch. */
function rerankCost({ metrics }: Sources): string {
  const f = metrics.flops
  const mb = (file: string) => (statSync(`models/onnx/${file}`).size / 1e6).toFixed(2)
  const parity = (model: string) => metrics.parity_max_abs_diff[model].toExponential(1)
  return [
    `Cost per request (100 candidates, 20 history items; torch's profiler FLOP count): teacher ${(f.armmt / 1e6).toFixed(1)} M FLOPs,`,
    `head ${(f.head / 1e6).toFixed(1)} M (${pct(metrics.distillation.head_flops_share_of_teacher)}). ONNX sizes: teacher ${mb('armmt.onnx')} MB, head ${mb('edge_head.onnx')} MB.`,
    `Parity, max |onnxruntime-node − PyTorch| (lists of 20 and 100 padded together): teacher ${parity('armmt')}, head ${parity('edge_head')}.`,
  ].join('\n')
}

/**
 * The sessions in each split of the committed release's world, cut as the generator cuts them
 * (`scripts/world/generate.ts`: in time order, by the preset's split fractions) from the session
 * count `bench:world` measured for that same world (its content hash is checked).
 */
function splitSessions({ world, metrics }: Sources): Record<Metrics['split'], number> {
  const w = world.presets[metrics.preset]
  if (w?.content_hash !== metrics.world.content_hash)
    throw new Error(
      `data/bench/world.json's "${metrics.preset}" world is not the one models/metrics.json was measured on (content hash)`,
    )
  const sessions = w.counts.sessions
  const { train, valid } = presetConfig(metrics.preset).splits
  const trainEnd = Math.round(sessions * train)
  const validEnd = Math.round(sessions * (train + valid))
  return { train: trainEnd, valid: validEnd - trainEnd, test: sessions - validEnd }
}

const passes = (k: number) => `${k} ${k === 1 ? 'pass' : 'passes'}`

/** The re-rankers' training budgets and the split the results table is measured on. */
function rerankSetup(sources: Sources): string {
  const { metrics } = sources
  const { teacher, head, table } = metrics.budget
  const split = splitSessions(sources)
  const over = (sessions: number) =>
    sessions === split.train
      ? `all ${n(sessions)} training sessions`
      : `${n(sessions)} of the ${n(split.train)} training sessions`
  const headOver =
    head.sessions === teacher.sessions && teacher.sessions === split.train ? 'all of them' : over(head.sessions)
  const tableRows = RERANK_ROWS.filter(([, , budget]) => budget === 'table').length
  const tableSeeds = metrics.rankers.armmt_table.seeds?.length ?? 1
  const Split = metrics.split[0].toUpperCase() + metrics.split.slice(1)
  return [
    `**Budgets** (\`models/metrics.json\` → \`budget\`). The published teacher trains ${passes(teacher.epochs)}`,
    `over ${over(teacher.sessions)} (keeping its best); the head distils ${passes(head.epochs)} over ${headOver}`,
    `from the seed-1 teacher's scores. Every row of the **ablation table trains at one smaller budget**,`,
    `${passes(table.epochs)} over a fixed ${n(table.sessions)} sessions, ARMMT included (\`armmt_table\`), so the table compares equals;`,
    `the full budget for ${tableRows} rows × ${tableSeeds} seeds does not fit the 90-minute chain.`,
    '',
    `${Split} split (${n(split[metrics.split])} sessions), mean ± std over seeds ${metrics.rankers.armmt.seeds!.join(', ')}, ${metrics.preset} preset, world seed ${metrics.world.seed}, from`,
    `\`npm run train -- --preset ${metrics.preset}\` (\`models/metrics.json\`). Share = \`oracle_gain_share\` on true-gain`,
    `NDCG@10; "of history" = \`history_oracle_gain_share\`; AUC and GAUC are against logged (position-biased)`,
    'clicks:',
  ].join('\n')
}

const WORLD2_ROWS: [key: string, label: string][] = [
  ['crowd_oracle', 'crowd oracle (reference)'],
  ['history_oracle', 'history oracle (reference)'],
  ['armmt', '**ARMMT teacher**'],
  ['armmt_history_hidden', 'ARMMT, every history hidden'],
  ['head', '**edge head**'],
  ['head_history_hidden', 'edge head, every history hidden'],
]

/** World seed 1 beside world seed 2: the shares, what the history is worth there, the run's time. */
function secondWorld({ metrics, metrics2 }: Sources): string {
  const row = ([key, label]: (typeof WORLD2_ROWS)[number]) => {
    const [a, b] = [metrics.rankers[key], metrics2.rankers[key]]
    return `| ${label} | ${withStd(a, 'oracle_gain_share', 3)} | ${withStd(b, 'oracle_gain_share', 3)} | ${a.history_oracle_gain_share.toFixed(3)} | ${b.history_oracle_gain_share.toFixed(3)} |`
  }
  const r2 = metrics2.rankers
  const points = (x: number) => (100 * x).toFixed(1)
  const kept2 = metrics2.distillation.head_gain_share_of_teacher
  const st = metrics2.stage_seconds
  const total = Object.values(st).reduce((a, b) => a + b, 0)
  return [
    '| ranker | share, world 1 | share, world 2 | of history, world 1 | of history, world 2 |',
    '|---|---|---|---|---|',
    ...WORLD2_ROWS.map(row),
    '',
    `On world 2 personalization is worth ${points(metrics2.personalization.armmt)} points to the teacher and ${points(metrics2.personalization.head)} to the head,`,
    `and the teacher is ${points(r2.armmt.oracle_gain_share - r2.crowd_oracle.oracle_gain_share)} points above the crowd there. The head keeps ${pct(kept2)} of the teacher's gain on`,
    `world 2 (target 95 %: ${verdict(kept2 >= 0.95)}; ${pct(metrics.distillation.head_gain_share_of_teacher)} on world 1). That run took ${n(total)} s (two-tower ${n(st.two_tower)} s,`,
    `re-rankers ${n(st.rerank)} s; \`models/metrics.world-seed2.json\` → \`stage_seconds\`).`,
  ].join('\n')
}

/** How much of the oracle's gain the history makes reachable, and how much of that the models take. */
function historyReach({ metrics }: Sources): string {
  const r = metrics.rankers
  const whole = (x: number) => `${(100 * x).toFixed(0)} %`
  return [
    `\`history_oracle\` recovers ${whole(r.history_oracle.oracle_gain_share)} of the oracle's gain and \`crowd_oracle\` ${whole(r.crowd_oracle.oracle_gain_share)}, so`,
    `${whole(1 - r.crowd_oracle.oracle_gain_share)} needs each user's own tastes. The committed teacher (${r.armmt.oracle_gain_share.toFixed(3)}) and head (${r.head.oracle_gain_share.toFixed(3)}) reach`,
    `${pct(r.armmt.history_oracle_gain_share)} and ${pct(r.head.history_oracle_gain_share)} of \`history_oracle\`'s gain (\`models/metrics.json\`, test split, mean over the seeds).`,
  ].join('\n')
}

/**
 * `npm run evaluate`'s rows for the reference rankers that the committed release keeps, in the
 * printout's own order and layout (`formatTable`).
 */
function evaluateReferences(sources: Sources): string {
  const { metrics } = sources
  const rankers = Object.fromEntries(
    Object.keys(BASELINES)
      .filter((name) => name in metrics.rankers)
      .map((name) => [name, metrics.rankers[name]]),
  )
  return [
    `\`npm run evaluate -- --world data/worlds/${metrics.preset}\`, \`${metrics.preset}\` preset, world seed ${metrics.world.seed}, ${metrics.split} split (${n(splitSessions(sources)[metrics.split])} sessions):`,
    `its rows for the reference rankers that the committed release keeps (\`models/metrics.json\` → \`rankers\`), as it prints them:`,
    '',
    '```',
    formatTable({ rankers } as Pick<Evaluation, 'rankers'> as Evaluation),
    '```',
  ].join('\n')
}

/** The deployed worker against the plans' limits: bundle sizes, CPU time per request, cold starts. */
function deployFit({ edge }: Sources): string {
  const MiB = 1024 * 1024
  const size = (bytes: number) => (bytes < MiB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MiB).toFixed(2)} MiB`)
  const plan = (bytes: number) => (bytes <= 3 * MiB ? 'Free' : bytes <= 10 * MiB ? 'Paid only' : '**neither**')
  const w = edge.worker!
  const cold = edge.cold!
  return [
    `\`npm run bench:edge\`, ${edge.when.slice(0, 10)}, Node ${edge.node} (\`data/bench/edge.json\`; [edge.md](edge.md) has the whole run):`,
    '',
    '| what | limit | measured | fits |',
    '|---|---|---|---|',
    `| default build, compressed | 3 MiB Free, 10 MiB Paid | ${size(edge.bundle.default.gzip)} gzip | ${plan(edge.bundle.default.gzip)} |`,
    `| ort build (\`--ort\`), compressed | 3 MiB Free, 10 MiB Paid | ${size(edge.bundle.ort.gzip)} gzip | ${plan(edge.bundle.ort.gzip)} |`,
    `| the worker's own time per request | 10 ms CPU on Free | ${ms(w.own_ms_p50)} p50 (${ms(w.own_ms_p99)} p99) | ${w.own_ms_p99 <= 10 ? 'Free' : '**no**'} |`,
    `| a fresh isolate's first rerank, at the client (p50) | | ${ms(median(cold.kernel.client))} default build, ${ms(median(cold.ort.client))} ort build | |`,
  ].join('\n')
}

/** The embed rate on this machine, and what it makes of a 10-million-item catalog. */
function embedRate({ embed }: Sources): string {
  const rates = embed.runs.map((r) => r.items_per_s)
  const thousands = (x: number) => `${n(Math.round(x / 1000) * 1000)}`
  const minutes = 1e7 / embed.median_items_per_s / 60
  return [
    `\`npm run embed\` takes about ${thousands(embed.median_items_per_s)} items/s on this ${embed.cpus}-core machine (\`npm run bench:embed\`, ${embed.when.slice(0, 10)}, Node ${embed.node}:`,
    `median of ${rates.length} runs over the default world's ${n(embed.catalog.items)} items and ${n(embed.catalog.queries)} queries, ${thousands(Math.min(...rates))}–${thousands(Math.max(...rates))};`,
    `both towers, batches of ${embed.batch}, the files written; load average ${embed.load_before.toFixed(1)} as it began; \`data/bench/embed.json\`),`,
    `so 10 million items are about ${minutes.toFixed(0)} minutes of tower time.`,
  ].join('\n')
}

/** What `npm run embed` prints for the world's catalog, with the benchmark's median run. */
function embedOutput({ embed }: Sources): string {
  const run = [...embed.runs].sort(
    (a, b) => Math.abs(a.items_per_s - embed.median_items_per_s) - Math.abs(b.items_per_s - embed.median_items_per_s),
  )[0]
  return [
    '```',
    `embed: ${embed.catalog.items} items, ${embed.catalog.queries} queries in ${run.seconds.toFixed(1)} s (${run.items_per_s.toFixed(0)} items/s); ${embed.output.records} records to put, 0 to delete, 0 unchanged → data/kv-default/ (${embed.output.files.join(', ')})`,
    '```',
  ].join('\n')
}

/** The event loop at scale: the simulator, the consumer, the log against the simulator's record. */
function eventsBench({ events: e }: Sources): string {
  const s = e.simulate
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`
  return [
    `\`npm run bench:events\` (${e.when.slice(0, 10)}, this ${e.cpus}-core machine, Node ${e.node}, load average ${e.load_before.toFixed(1)} as it began; \`data/bench/events.json\`): ${n(s.sessions)} SYNTHETIC sessions, ${e.options.concurrency} at once, against \`wrangler dev\`, ${pct(e.options.consumer_fail_share)} of the consumer's batches failing.`,
    '',
    '| | |',
    '|---|---|',
    `| answers received (each an impression) | ${n(s.answers)} (${n(s.passthrough)} passthrough) |`,
    `| events sent | ${n(s.events_sent)}: ${n(s.clicks)} clicks, ${n(s.purchases)} purchases (${s.ctr.toFixed(2)} clicks per answer, ${s.purchases_per_session.toFixed(2)} purchases per session${s.purchases_per_session_ci95 ? `, 95 % interval over ${n(s.users)} users ${s.purchases_per_session_ci95.map((x) => x.toFixed(2)).join('–')}` : ''}) |`,
    `| the log, against the simulator's record | ${n(e.log.found)} of ${n(e.log.expected)} records found, ${n(e.log.missing)} missing, ${n(e.log.duplicates)} duplicates, ${n(e.log.dead)} under \`dead/\` |`,
    `| through the consumer | ${n(Math.round(e.consumer.records_per_s))} records/s, from the first record taken to the last object stored, as fast as they came: the simulator sent ${n(Math.round(e.log.expected / s.seconds))} records/s, so this is its rate, not the consumer's ceiling |`,
    `| from the edge taking a record to R2 storing it | p50 ${n(Math.round(e.consumer.send_to_r2_ms_p50))} ms, p99 ${n(Math.round(e.consumer.send_to_r2_ms_p99))} ms |`,
    `| after the last session, until the log held everything | ${e.drain_s.toFixed(1)} s |`,
    `| the simulator's searches, as the client saw them | ${n(Math.round(s.seconds))} s in all; p50 ${s.latency_ms_p50.toFixed(0)} ms, p99 ${s.latency_ms_p99.toFixed(0)} ms |`,
  ].join('\n')
}

/** logs:build at growing log sizes. */
function logsScale({ logs }: Sources): string {
  const mb = (x: number) => n(Math.round(x))
  return [
    `\`npm run bench:logs\` (${logs.when.slice(0, 10)}, this ${logs.cpus}-core machine, Node ${logs.node}, DuckDB held to ${logs.duckdb_memory_limit}; \`data/bench/logs.json\`), SYNTHETIC logs:`,
    '',
    '| impressions | records | log (gzip) | seconds | records/s | peak memory |',
    '|---|---|---|---|---|---|',
    ...logs.runs.map(
      (r) =>
        `| ${n(r.impressions)} | ${n(r.records)} | ${mb(r.log_mb)} MB | ${r.seconds.toFixed(0)} | ${n(Math.round(r.records_per_s))} | ${n(Math.round(r.peak_rss_mb))} MB |`,
    ),
  ].join('\n')
}

export const BLOCKS: Record<string, (s: Sources) => string> = {
  'logs-scale': logsScale,
  'events-bench': eventsBench,
  'training-time': trainingTime,
  'world-sizes': worldSizes,
  'origin-runs': originRuns,
  'origin-targets': originTargets,
  'edge-targets': edgeTargets,
  'edge-bench': edgeBench,
  results,
  'results-summary': resultsSummary,
  'two-tower': twoTower,
  'rerank-setup': rerankSetup,
  'rerank-results': rerankResults,
  'rerank-cost': rerankCost,
  'second-world': secondWorld,
  'evaluate-references': evaluateReferences,
  'history-reach': historyReach,
  'deploy-fit': deployFit,
  'embed-rate': embedRate,
  'embed-output': embedOutput,
}

// ---- pages ---------------------------------------------------------------------------------

const BLOCK = /(<!-- figures:([\w-]+) -->\n)([\s\S]*?)(<!-- \/figures:\2 -->)/g

/** A page with every block regenerated; throws on a block this script does not know. */
export function regenerate(text: string, sources: Sources, page: string): string {
  return text.replace(BLOCK, (_all, open: string, name: string, _old: string, close: string) => {
    const block = BLOCKS[name]
    if (!block) throw new Error(`${page}: unknown figures block "${name}" (known: ${Object.keys(BLOCKS).join(', ')})`)
    return `${open}${block(sources)}\n${close}`
  })
}

/** The pages whose blocks differ from what the committed results give. */
export function stalePages(sources: Sources = readSources()): string[] {
  return PAGES.filter((page) => {
    const text = readFileSync(page, 'utf8')
    return regenerate(text, sources, page) !== text
  })
}

function main() {
  const opts = new Command('docs:figures')
    .option('--check', 'change nothing; fail if a page is stale')
    .allowExcessArguments(false)
    .parse()
    .opts<{ check?: boolean }>()
  const sources = readSources()
  if (opts.check) {
    const stale = stalePages(sources)
    if (stale.length) {
      console.error(`docs:figures: stale figures in ${stale.join(', ')} (npm run docs:figures mends them)`)
      process.exit(1)
    }
    console.log('docs:figures: every generated block matches the committed results')
    return
  }
  for (const page of PAGES) {
    const text = readFileSync(page, 'utf8')
    const next = regenerate(text, sources, page)
    if (next !== text) (writeFileSync(page, next), console.log(`docs:figures: wrote ${page}`))
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main()
