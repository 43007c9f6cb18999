import { SESSION, SESSION_COLS, type Split, type World } from '../world/world.ts'
import { splitRows } from './evaluate.ts'
import { labelGain, ndcgAt } from './metrics.ts'

export interface RetrievalMetrics {
  /** Share of a query's clicked items found in the top 100 of the whole catalog. */
  'recall@100': number
  /** NDCG@10 over the whole catalog, gains = best logged label of the item for the query (purchase 3, click 1). */
  'ndcg@10': number
  queries: number
}

/** For every query of the split: the items clicked for it and their best graded gain. */
export function relevantItems(world: World, split: Split): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>()
  const c = world.candidates
  for (const s of splitRows(world, split).sessions) {
    const q = world.sessions.table[s * SESSION_COLS + SESSION.query]
    for (let r = world.sessions.offset[s]; r < world.sessions.offset[s + 1]; r++) {
      const gain = labelGain(c.click[r], c.purchase[r])
      if (!gain) continue
      if (!out.has(q)) out.set(q, new Map())
      const m = out.get(q)!
      m.set(c.item[r], Math.max(gain, m.get(c.item[r]) ?? 0))
    }
  }
  return out
}

/**
 * Retrieval quality of a two-tower model over the whole catalog: each query's embedding
 * against every item's embedding (dot product; both unit vectors), per query, then averaged.
 */
export function retrievalMetrics(
  world: World,
  split: Split,
  queryEmb: Float32Array,
  itemEmb: Float32Array,
  dim: number,
): RetrievalMetrics {
  const N = world.items.count
  if (itemEmb.length !== N * dim) throw new Error(`item embeddings: ${itemEmb.length} values, expected ${N} × ${dim}`)
  if (queryEmb.length !== world.queries.count * dim)
    throw new Error(`query embeddings: ${queryEmb.length} values, expected ${world.queries.count} × ${dim}`)
  const relevant = relevantItems(world, split)
  let recall = 0
  let ndcg = 0
  const scores = new Float32Array(N)
  for (const [q, items] of relevant) {
    for (let i = 0; i < N; i++) {
      let s = 0
      for (let j = 0; j < dim; j++) s += queryEmb[q * dim + j] * itemEmb[i * dim + j]
      scores[i] = s
    }
    const top = topK(scores, 100)
    let found = 0
    for (const i of top) if (items.has(i)) found++
    recall += found / items.size
    // NDCG@10 over the catalog: the ideal puts the query's best-labelled items first.
    ndcg +=
      ndcgAt(
        10,
        top.slice(0, 10).map((i) => items.get(i) ?? 0),
        [...items.values()],
      ) ?? 0
  }
  const n = relevant.size
  return { 'recall@100': recall / n, 'ndcg@10': ndcg / n, queries: n }
}

/** Indices of the k largest scores, best first (a bounded min-heap: O(n log k)). */
export function topK(scores: Float32Array, k: number): number[] {
  const heap: number[] = []
  const less = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b)
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && less(heap[l], heap[m])) m = l
      if (r < heap.length && less(heap[r], heap[m])) m = r
      if (m === i) return
      ;[heap[i], heap[m]] = [heap[m], heap[i]]
      i = m
    }
  }
  for (let i = 0; i < scores.length; i++) {
    if (heap.length < k) {
      heap.push(i)
      for (let c = heap.length - 1; c > 0;) {
        const p = (c - 1) >> 1
        if (!less(heap[c], heap[p])) break
        ;[heap[c], heap[p]] = [heap[p], heap[c]]
        c = p
      }
    } else if (less(heap[0], i)) {
      heap[0] = i
      down(0)
    }
  }
  return heap.sort((a, b) => (less(a, b) ? 1 : less(b, a) ? -1 : 0))
}
