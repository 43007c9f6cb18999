/**
 * The report's charts as Vega-Lite specs, from the committed metrics and the latest benchmark
 * results. Each takes what it reads and returns a spec, or null when its input is missing.
 */
import type { TopLevelSpec } from 'vega-lite'

type Ranker = { oracle_gain_share: number; std?: { oracle_gain_share: number }; seeds?: number[] }
export interface Metrics {
  rankers: Record<string, Ranker>
  personalization: Record<string, number>
  distillation: { head_gain_share_of_teacher: number; head_flops_share_of_teacher: number }
}
export interface EdgeBench {
  client: { miniflare: Record<string, { samples?: number[] }> }
}
export interface OriginBench {
  runs: { batching: string; clients: number; samples: number[] }[]
}

const WIDTH = 560
const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: WIDTH, background: 'white' } as const

/** The rankers of the results table, in its order, with what kind of row each is. */
const RANKERS: [name: string, label: string, kind: string][] = [
  ['retrieval', 'retrieval order', 'reference'],
  ['pointwise_text', 'pointwise (table budget)', 'ablation table (smaller budget, equal for its rows)'],
  ['prm', 'PRM (table budget)', 'ablation table (smaller budget, equal for its rows)'],
  ['armmt_no_cafu', 'ARMMT − CAFU (table budget)', 'ablation table (smaller budget, equal for its rows)'],
  ['armmt_no_aux', 'ARMMT − aux (table budget)', 'ablation table (smaller budget, equal for its rows)'],
  ['armmt_table', 'ARMMT (table budget)', 'ablation table (smaller budget, equal for its rows)'],
  ['crowd_oracle', 'crowd oracle', 'reference'],
  ['head', 'edge head (distilled)', 'published (full budget)'],
  ['armmt', 'ARMMT teacher (origin)', 'published (full budget)'],
  ['history_oracle', 'history oracle', 'reference'],
]

export function gainShareChart(m: Metrics): TopLevelSpec {
  const values = RANKERS.filter(([n]) => m.rankers[n]).map(([n, label, kind]) => {
    const r = m.rankers[n]
    const std = r.std?.oracle_gain_share ?? 0
    return { label, kind, share: r.oracle_gain_share, lo: r.oracle_gain_share - std, hi: r.oracle_gain_share + std }
  })
  const y = { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } } as const
  return {
    ...BASE,
    title: { text: "Share of the oracle's gain (test split, mean ± std over seeds)", subtitle: 'SYNTHETIC world' },
    data: { values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y,
          x: { field: 'share', type: 'quantitative', title: "share of the oracle's gain", scale: { domain: [0, 1] } },
          color: {
            field: 'kind',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom', direction: 'vertical', labelLimit: 500 },
          },
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4 },
        encoding: { y, x: { field: 'hi', type: 'quantitative' }, text: { field: 'share', format: '.3f' } },
      },
    ],
  }
}

/** Bars of `share` per `row`, one bar per `group` within each row, coloured by group. */
const groupedShares = (row: string, group: string) => ({
  mark: 'bar' as const,
  encoding: {
    y: { field: row, type: 'nominal' as const, title: null },
    yOffset: { field: group },
    x: {
      field: 'share',
      type: 'quantitative' as const,
      title: "share of the oracle's gain",
      scale: { domain: [0, 0.6] },
    },
    color: { field: group, type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const } },
  },
})

export function fidelityChart(worlds: { world: string; m: Metrics }[]): TopLevelSpec {
  const values = worlds.flatMap(({ world, m }) => [
    { world, model: 'ARMMT teacher', share: m.rankers.armmt.oracle_gain_share },
    { world, model: 'edge head', share: m.rankers.head.oracle_gain_share },
  ])
  const kept = worlds.map(({ world, m }) => ({
    world,
    text: `${world}: the head keeps ${(100 * m.distillation.head_gain_share_of_teacher).toFixed(1)} % at ${(100 * m.distillation.head_flops_share_of_teacher).toFixed(1)} % of the FLOPs`,
  }))
  return {
    ...BASE,
    title: { text: "The head's fidelity to the teacher", subtitle: 'SYNTHETIC worlds; world 2 trains one seed' },
    vconcat: [
      { width: WIDTH, data: { values }, ...groupedShares('world', 'model') },
      {
        width: WIDTH,
        view: { stroke: null },
        data: { values: kept },
        mark: { type: 'text', align: 'left', x: 0 },
        encoding: { y: { field: 'world', type: 'nominal', title: null, axis: null }, text: { field: 'text' } },
      },
    ],
  }
}

export function personalizationChart(m: Metrics): TopLevelSpec {
  const values = [
    { model: 'ARMMT teacher', input: 'with the history', share: m.rankers.armmt.oracle_gain_share },
    { model: 'ARMMT teacher', input: 'history hidden', share: m.rankers.armmt_history_hidden.oracle_gain_share },
    { model: 'edge head', input: 'with the history', share: m.rankers.head.oracle_gain_share },
    { model: 'edge head', input: 'history hidden', share: m.rankers.head_history_hidden.oracle_gain_share },
  ]
  return {
    ...BASE,
    title: {
      text: 'What the history is worth',
      subtitle: `teacher +${(100 * m.personalization.armmt).toFixed(1)} points, head +${(100 * m.personalization.head).toFixed(1)} (seed 1; SYNTHETIC)`,
    },
    data: { values },
    ...groupedShares('model', 'input'),
  }
}

const latency = (title: string, subtitle: string, values: object[], y: string, color?: string): TopLevelSpec => ({
  ...BASE,
  title: { text: title, subtitle },
  data: { values },
  mark: { type: 'boxplot', extent: 'min-max' },
  encoding: {
    y: { field: y, type: 'nominal', title: null, sort: null },
    x: { field: 'ms', type: 'quantitative', title: 'latency at the client, ms (log scale)', scale: { type: 'log' } },
    ...(color ? { color: { field: color, type: 'nominal', legend: { orient: 'bottom' } } } : {}),
  },
})

export function edgeLatencyChart(b: EdgeBench | null): TopLevelSpec | null {
  const routes = b ? Object.entries(b.client.miniflare).filter(([, r]) => r.samples?.length) : []
  if (!routes.length) return null
  const values = routes.flatMap(([route, r]) => r.samples!.map((ms) => ({ route, ms })))
  return latency(
    'Edge latency, one connection',
    'npm run bench:edge: workerd through Miniflare, this machine',
    values,
    'route',
  )
}

export function originLatencyChart(b: OriginBench | null): TopLevelSpec | null {
  if (!b?.runs.length) return null
  const values = b.runs.flatMap((r) =>
    r.samples.map((ms) => ({
      clients: `${r.clients} client${r.clients > 1 ? 's' : ''}`,
      batching: `batching ${r.batching}`,
      ms,
    })),
  )
  return latency(
    'Origin latency',
    'npm run bench:origin: the teacher on onnxruntime-node, CPU',
    values,
    'clients',
    'batching',
  )
}
