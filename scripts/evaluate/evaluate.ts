import { ITEM_ATTR, ITEM_ATTR_COLS, expectedGain, expectedPurchases } from '../world/choice.ts'
import { SESSION, SESSION_COLS, SPLITS, type Split, type World } from '../world/world.ts'
import { auc, labelGain, ndcgAt, rankRows, reciprocalRank } from './metrics.ts'

export interface RankerMetrics {
  /** NDCG@10 against logged labels (purchase 3, click 1, none 0), sessions with a click. */
  'ndcg@10': number
  /** NDCG@10 against true expected gains (pClick + 2·pPurchase), every session. The headline. */
  'ndcg@10_true': number
  /** AUC of the score for the logged click, over all candidate rows of the split. */
  auc: number
  /** Per-session click AUC, averaged with weights = list length, sessions with both classes. */
  gauc: number
  /** Mean reciprocal rank of the first clicked item, sessions with a click. */
  mrr: number
  /** Expected purchases per session of the displayed list under the full choice model. */
  exp_purchases: number
  /** (ndcg@10_true − retrieval's) / (oracle's − retrieval's). */
  oracle_gain_share: number
  /** The same share computed on label NDCG@10. */
  oracle_gain_share_labels: number
  /** The same true-gain share against `history_oracle` (the ceiling of a model reading the history),
   *  when that reference is among the rankers. */
  history_oracle_gain_share?: number
}

export interface Evaluation {
  split: Split
  sessions: number
  candidates: number
  rankers: Record<string, RankerMetrics>
}

/** Sessions and rows of one split. */
export function splitRows(world: World, split: Split): { sessions: number[]; rows: number } {
  const code = SPLITS.indexOf(split)
  const sessions: number[] = []
  let rows = 0
  for (let s = 0; s < world.sessions.count; s++)
    if (world.sessions.table[s * SESSION_COLS + SESSION.split] === code) {
      sessions.push(s)
      rows += world.sessions.offset[s + 1] - world.sessions.offset[s]
    }
  return { sessions, rows }
}

/**
 * Scores of a model may cover every row of the world or only the rows of `split`
 * (in row order); either way this returns a full-length array.
 */
export function expandScores(world: World, split: Split, scores: Float32Array, name: string): Float32Array {
  if (scores.length === world.candidates.count) return scores
  const { sessions, rows } = splitRows(world, split)
  if (scores.length !== rows)
    throw new Error(
      `scores "${name}": ${scores.length} values, expected ${world.candidates.count} (all rows) or ${rows} (${split} rows)`,
    )
  const out = new Float32Array(world.candidates.count).fill(Number.NaN)
  let j = 0
  for (const s of sessions)
    for (let r = world.sessions.offset[s]; r < world.sessions.offset[s + 1]; r++) out[r] = scores[j++]
  return out
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN)

/** Metrics of one ranker's scores on one split (oracle_gain_share filled in by `evaluate`). */
export function rankerMetrics(
  world: World,
  split: Split,
  scores: Float32Array,
): Omit<RankerMetrics, 'oracle_gain_share' | 'oracle_gain_share_labels'> {
  const { sessions } = splitRows(world, split)
  const c = world.candidates
  const ndcgLabels: number[] = []
  const ndcgTrue: number[] = []
  const rr: number[] = []
  const purchases: number[] = []
  let gaucNum = 0
  let gaucDen = 0
  const allScores: number[] = []
  const allClicks: number[] = []
  for (const s of sessions) {
    const start = world.sessions.offset[s]
    const end = world.sessions.offset[s + 1]
    for (let r = start; r < end; r++) {
      if (!Number.isFinite(scores[r])) throw new Error(`score of row ${r} (session ${s}) is not a finite number`)
      allScores.push(scores[r])
      allClicks.push(c.click[r])
    }
    const order = rankRows(scores, start, end)
    const gains = Array.from(order, (r) => labelGain(c.click[r], c.purchase[r]))
    const trueGains = Array.from(order, (r) => expectedGain(c.pClick[r], c.pPurchase[r]))
    const nl = ndcgAt(10, gains)
    if (nl !== null) ndcgLabels.push(nl)
    const nt = ndcgAt(10, trueGains)
    if (nt !== null) ndcgTrue.push(nt)
    const m = reciprocalRank(Array.from(order, (r) => c.click[r]))
    if (m !== null) rr.push(m)
    const a = auc(scores.subarray(start, end), c.click.subarray(start, end))
    if (a !== null) ((gaucNum += a * (end - start)), (gaucDen += end - start))
    const utility = Array.from(order, (r) => c.utility[r * 3] + c.utility[r * 3 + 1] + c.utility[r * 3 + 2])
    const family = Array.from(order, (r) => world.items.attr[c.item[r] * ITEM_ATTR_COLS + ITEM_ATTR.family])
    purchases.push(expectedPurchases(utility, family, world.config.choice))
  }
  return {
    'ndcg@10': mean(ndcgLabels),
    'ndcg@10_true': mean(ndcgTrue),
    auc: auc(allScores, allClicks) ?? Number.NaN,
    gauc: gaucDen ? gaucNum / gaucDen : Number.NaN,
    mrr: mean(rr),
    exp_purchases: mean(purchases),
  }
}

/**
 * Evaluates named rankers on a split. `retrieval` and `oracle` must be among them: every
 * ranker's oracle_gain_share is measured between those two.
 */
export function evaluate(world: World, split: Split, scoresByRanker: Record<string, Float32Array>): Evaluation {
  for (const need of ['retrieval', 'oracle'])
    if (!scoresByRanker[need])
      throw new Error(`evaluate: the "${need}" ranker is required (it anchors oracle_gain_share)`)
  const raw = Object.fromEntries(
    Object.entries(scoresByRanker).map(([name, scores]) => [
      name,
      rankerMetrics(world, split, expandScores(world, split, scores, name)),
    ]),
  )
  // A ranker's share of the gain from retrieval order up to a reference: the oracle, or history_oracle.
  const share = (x: number, key: 'ndcg@10' | 'ndcg@10_true', top = raw.oracle) =>
    (x - raw.retrieval[key]) / (top[key] - raw.retrieval[key])
  const rankers: Record<string, RankerMetrics> = {}
  for (const [name, m] of Object.entries(raw))
    rankers[name] = {
      ...m,
      oracle_gain_share: share(m['ndcg@10_true'], 'ndcg@10_true'),
      oracle_gain_share_labels: share(m['ndcg@10'], 'ndcg@10'),
      ...(raw.history_oracle && {
        history_oracle_gain_share: share(m['ndcg@10_true'], 'ndcg@10_true', raw.history_oracle),
      }),
    }
  const { sessions, rows } = splitRows(world, split)
  return { split, sessions: sessions.length, candidates: rows, rankers }
}

const COLUMNS: (keyof RankerMetrics)[] = [
  'ndcg@10_true',
  'ndcg@10',
  'auc',
  'gauc',
  'mrr',
  'exp_purchases',
  'oracle_gain_share',
]

/** A fixed-width text table of an evaluation. */
export function formatTable(ev: Evaluation): string {
  const first = Object.values(ev.rankers)[0]
  const columns =
    first?.history_oracle_gain_share === undefined ? COLUMNS : [...COLUMNS, 'history_oracle_gain_share' as const]
  const head = ['ranker'.padEnd(14), ...columns.map((c) => c.padStart(c.length > 9 ? c.length : 9))].join(' ')
  const lines = Object.entries(ev.rankers).map(([name, m]) =>
    [name.padEnd(14), ...columns.map((c) => m[c]!.toFixed(4).padStart(c.length > 9 ? c.length : 9))].join(' '),
  )
  return [head, ...lines].join('\n')
}
