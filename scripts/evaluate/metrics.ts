/**
 * Ranking metrics. Each takes one session's rows (already in the ranker's order where
 * order matters) and returns a number, or null where the metric is undefined for it.
 */

/** Graded gain of a logged label: 2^g − 1 with purchase g = 2, click g = 1, none g = 0. */
export const labelGain = (click: number, purchase: number): number => (purchase ? 3 : click ? 1 : 0)

const DISCOUNT = Array.from({ length: 256 }, (_, k) => 1 / Math.log2(k + 2))
const discount = (k: number) => (k < DISCOUNT.length ? DISCOUNT[k] : 1 / Math.log2(k + 2))

/** DCG@k of gains listed in ranked order. */
export function dcgAt(k: number, rankedGains: ArrayLike<number>): number {
  let dcg = 0
  for (let i = 0; i < Math.min(k, rankedGains.length); i++) dcg += rankedGains[i] * discount(i)
  return dcg
}

/**
 * NDCG@k of gains listed in ranked order against the ideal order of `idealGains` (by default the
 * same gains: a re-ranking of one list); null when there is no gain at all.
 */
export function ndcgAt(
  k: number,
  rankedGains: ArrayLike<number>,
  idealGains: ArrayLike<number> = rankedGains,
): number | null {
  const idcg = dcgAt(
    k,
    Array.from(idealGains).sort((a, b) => b - a),
  )
  return idcg > 0 ? dcgAt(k, rankedGains) / idcg : null
}

/** Reciprocal rank of the first positive in ranked order; null when there is none. */
export function reciprocalRank(rankedPositives: ArrayLike<number>): number | null {
  for (let i = 0; i < rankedPositives.length; i++) if (rankedPositives[i]) return 1 / (i + 1)
  return null
}

/**
 * ROC AUC of scores against binary labels (Mann–Whitney, ties get half credit);
 * null when only one class is present.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = scores.length
  const idx = new Int32Array(n)
  for (let i = 0; i < n; i++) idx[i] = i
  idx.sort((a, b) => scores[a] - scores[b])
  let pos = 0
  let rankSum = 0
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++
    const midRank = (i + j) / 2 + 1 // 1-based average rank of the tie block
    for (let t = i; t <= j; t++) if (labels[idx[t]]) (pos++, (rankSum += midRank))
    i = j + 1
  }
  const neg = n - pos
  if (pos === 0 || neg === 0) return null
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg)
}

/** Row order of one session under a ranker: score descending, ties kept in displayed order. */
export function rankRows(scores: ArrayLike<number>, start: number, end: number): Int32Array {
  const order = new Int32Array(end - start)
  for (let i = 0; i < order.length; i++) order[i] = start + i
  return order.sort((a, b) => scores[b] - scores[a] || a - b)
}
