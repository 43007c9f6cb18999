import { ITEM_ATTR, ITEM_ATTR_COLS, expectedGain, sigmoid, tasteLayout, utilityParts } from '../world/choice.ts'
import { Rng } from '../../functions/text-encoder/rng.ts'
import { COLOUR_WORDS, MATERIAL_WORDS, PATTERN_WORDS, SHAPE_WORDS } from '../../functions/text-encoder/vocab.ts'
import { SESSION, SESSION_COLS, type World } from '../world/world.ts'
import { estimateTastes } from './taste-estimate.ts'

/** A ranker gives every candidate row of the world a score; higher ranks first. */
export type Ranker = (world: World) => Float32Array

const perRow = (world: World, f: (r: number) => number): Float32Array => {
  const out = new Float32Array(world.candidates.count)
  for (let r = 0; r < out.length; r++) out[r] = f(r)
  return out
}

/**
 * The reference rankers. The oracles read the world's hidden truth, so they are ceilings
 * and diagnostics, never models:
 *  - oracle:        true expected gain without position bias (pClick + 2·pPurchase);
 *                   a pointwise ranking, it ignores the list effect.
 *  - text_oracle:   true utility from what text reveals (shared + text-only parts).
 *  - image_oracle:  true utility from what the image reveals (shared + image-only parts).
 *  - crowd_oracle:  true utility for the average user: the query's requests, the category and the
 *                   price at the mean price sensitivity, no personal taste. The gap between it and
 *                   `oracle` is what only personalization (inferring a user's hidden tastes) can earn.
 *  - history_oracle: true utility with each user's tastes estimated from their own history only
 *                   (a MAP estimate under the world's choice model: taste-estimate.ts). The
 *                   information ceiling of a model that reads the history; cold users get the crowd's.
 *  - list_oracle:   greedy list-aware ranking that also knows the near-duplicate effect; it
 *                   maximizes expected purchases of the displayed list one position at a time.
 */
export const BASELINES: Record<string, Ranker> = {
  random: (w) => {
    const rng = new Rng(w.seed, 'ranker/random')
    return perRow(w, () => rng.uniform())
  },
  retrieval: (w) => Float32Array.from(w.candidates.retrieval),
  text_oracle: (w) => perRow(w, (r) => w.candidates.utility[r * 3] + w.candidates.utility[r * 3 + 1]),
  image_oracle: (w) => perRow(w, (r) => w.candidates.utility[r * 3] + w.candidates.utility[r * 3 + 2]),
  crowd_oracle: crowdOracle,
  history_oracle: historyOracle,
  oracle: (w) => perRow(w, (r) => expectedGain(w.candidates.pClick[r], w.candidates.pPurchase[r])),
  list_oracle: listOracle,
}

function crowdOracle(w: World): Float32Array {
  const layout = tasteLayout(MATERIAL_WORDS.length, COLOUR_WORDS.length, PATTERN_WORDS.length, SHAPE_WORDS.length)
  // One "average user": every taste at its population mean (zero), price sensitivity at the middle of its range.
  const taste = new Float32Array(layout.width)
  const [lo, hi] = w.config.choice.taste.price
  taste[layout.price] = (lo + hi) / 2
  return utilityUnder(w, taste, () => 0)
}

function historyOracle(w: World): Float32Array {
  return utilityUnder(w, estimateTastes(w), (s) => w.sessions.table[s * SESSION_COLS + SESSION.user])
}

/** True utility of every candidate row with `taste` rows in place of the users' own; `row(s)` picks
 *  the session's row of `taste`. */
function utilityUnder(w: World, taste: Float32Array, row: (session: number) => number): Float32Array {
  const layout = tasteLayout(MATERIAL_WORDS.length, COLOUR_WORDS.length, PATTERN_WORDS.length, SHAPE_WORDS.length)
  const inputs = {
    itemAttr: w.items.attr,
    itemPriceZ: w.items.priceZ,
    brandTier: w.brandTier,
    taste,
    queryAttr: w.queries.attr,
    layout,
  }
  const parts = new Float32Array(3)
  const out = new Float32Array(w.candidates.count)
  for (let s = 0; s < w.sessions.count; s++) {
    const query = w.sessions.table[s * SESSION_COLS + SESSION.query]
    for (let r = w.sessions.offset[s]; r < w.sessions.offset[s + 1]; r++) {
      utilityParts(inputs, w.config.choice, row(s), query, w.candidates.item[r], parts, 0)
      out[r] = parts[0] + parts[1] + parts[2]
    }
  }
  return out
}

function listOracle(w: World): Float32Array {
  const { clickBias, purchaseBias, dupPenalty } = w.config.choice
  const out = new Float32Array(w.candidates.count)
  const u = w.candidates.utility
  for (let s = 0; s < w.sessions.count; s++) {
    const start = w.sessions.offset[s]
    const end = w.sessions.offset[s + 1]
    const placed = new Map<number, number>()
    const left = new Set<number>()
    for (let r = start; r < end; r++) left.add(r)
    for (let k = 0; k < end - start; k++) {
      let best = -1
      let bestValue = -Infinity
      for (const r of left) {
        const v = u[r * 3] + u[r * 3 + 1] + u[r * 3 + 2]
        const f = w.items.attr[w.candidates.item[r] * ITEM_ATTR_COLS + ITEM_ATTR.family]
        const value = sigmoid(v + clickBias - dupPenalty * (placed.get(f) ?? 0)) * sigmoid(v + purchaseBias)
        if (value > bestValue) ((bestValue = value), (best = r))
      }
      left.delete(best)
      const f = w.items.attr[w.candidates.item[best] * ITEM_ATTR_COLS + ITEM_ATTR.family]
      placed.set(f, (placed.get(f) ?? 0) + 1)
      out[best] = end - start - k
    }
  }
  return out
}
