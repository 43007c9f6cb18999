/**
 * Each user's hidden tastes estimated from their own history only: the information a model that
 * reads the history could at best recover. A MAP estimate under the world's own choice model,
 * reading the true attributes of the items (so it is a reference, never a model):
 *
 * - A history item is a taste-weighted pick within its category: p(i) ∝ exp(u_θ(i)), with
 *   u_θ(i) = θ_material[m_i] + θ_colour[k_i] + θ_pattern[p_i] + θ_shape[s_i] + θ_tier·tier(b_i)
 *            − θ_price·priceZ_i,
 *   the utility of item i under a bare query for its category (what the generator weighs by). The
 *   generator picks among 20 random items of the category; the pick is modelled as a softmax over
 *   the whole category, which that approaches in expectation.
 * - Prior: every taste ~ N(0, sd²) with the world's sd; price sensitivity uniform on its range
 *   (starts at the middle, clamped to the range). A cold user keeps the prior: the crowd.
 * - The log posterior is concave in θ; it is maximised by damped diagonal Newton steps.
 */
import { COLOUR_WORDS, MATERIAL_WORDS, PATTERN_WORDS, SHAPE_WORDS } from '../../functions/text-encoder/vocab.ts'
import { ITEM_ATTR, ITEM_ATTR_COLS, tasteLayout, type TasteLayout } from '../world/choice.ts'
import type { World } from '../world/world.ts'

const STEPS = 60
/** Half steps: full diagonal Newton steps overshoot on the one-hot blocks, whose features move together. */
const DAMPING = 0.5
/** A user's estimate has converged when no taste moves more than this in a step. */
const TOLERANCE = 1e-5

/** Per item: the taste slot of each one-hot attribute, its brand tier and its price z. */
interface ItemFeatures {
  slots: Int32Array // [items, 4]: material, colour, pattern, shape slots in the taste row
  tier: Float32Array
  priceZ: Float32Array
}

function itemFeatures(w: World, L: TasteLayout): ItemFeatures {
  const n = w.items.count
  const slots = new Int32Array(n * 4)
  const tier = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const a = i * ITEM_ATTR_COLS
    slots.set(
      [
        L.material + w.items.attr[a + ITEM_ATTR.material],
        L.colour + w.items.attr[a + ITEM_ATTR.colour],
        L.pattern + w.items.attr[a + ITEM_ATTR.pattern],
        L.shape + w.items.attr[a + ITEM_ATTR.shape],
      ],
      i * 4,
    )
    tier[i] = w.brandTier[w.items.attr[a + ITEM_ATTR.brand]]
  }
  return { slots, tier, priceZ: w.items.priceZ }
}

/** θ's utility of item i (the sign convention of utilityParts: price lowers it). */
function utility(theta: Float64Array, f: ItemFeatures, L: TasteLayout, i: number): number {
  const s = i * 4
  return (
    theta[f.slots[s]] +
    theta[f.slots[s + 1]] +
    theta[f.slots[s + 2]] +
    theta[f.slots[s + 3]] +
    theta[L.tier] * f.tier[i] -
    theta[L.price] * f.priceZ[i]
  )
}

/** Adds item i's features, times `weight`, into `into` (and their squares into `sq`, when given). */
function addFeatures(
  into: Float64Array,
  f: ItemFeatures,
  L: TasteLayout,
  i: number,
  weight: number,
  sq?: Float64Array,
) {
  for (let k = 0; k < 4; k++) {
    into[f.slots[i * 4 + k]] += weight
    if (sq) sq[f.slots[i * 4 + k]] += weight
  }
  into[L.tier] += weight * f.tier[i]
  into[L.price] -= weight * f.priceZ[i]
  if (sq) ((sq[L.tier] += weight * f.tier[i] ** 2), (sq[L.price] += weight * f.priceZ[i] ** 2))
}

/** The estimated taste rows [users, layout.width], in the world's taste layout. */
export function estimateTastes(w: World): Float32Array {
  const L = tasteLayout(MATERIAL_WORDS.length, COLOUR_WORDS.length, PATTERN_WORDS.length, SHAPE_WORDS.length)
  const f = itemFeatures(w, L)
  const sd = w.config.choice.taste
  const [lo, hi] = sd.price
  const precision = new Float64Array(L.width)
  const set = (from: number, to: number, s: number) => precision.fill(1 / (s * s), from, to)
  set(L.material, L.colour, sd.material)
  set(L.colour, L.pattern, sd.colour)
  set(L.pattern, L.shape, sd.pattern)
  set(L.shape, L.tier, sd.shape)
  set(L.tier, L.tier + 1, sd.tier)
  // Price sensitivity has a flat prior on [lo, hi]: a small precision keeps the Newton step bounded.
  precision[L.price] = 1e-3

  const byCategory = new Map<number, number[]>()
  for (let i = 0; i < w.items.count; i++) {
    const c = w.items.attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category]
    if (!byCategory.has(c)) byCategory.set(c, [])
    byCategory.get(c)!.push(i)
  }

  const H = w.users.history.length / w.users.count
  const out = new Float32Array(w.users.count * L.width)
  const theta = new Float64Array(L.width)
  const grad = new Float64Array(L.width)
  const mean = new Float64Array(L.width)
  const second = new Float64Array(L.width)
  const observed = new Float64Array(L.width)
  let largest = 0
  for (const pool of byCategory.values()) largest = Math.max(largest, pool.length)
  const utilities = new Float64Array(largest) // one pool's utilities under the current θ, scored once per step
  for (let u = 0; u < w.users.count; u++) {
    theta.fill(0)
    theta[L.price] = (lo + hi) / 2
    const picks = new Map<number, number>() // category → picks from it
    observed.fill(0)
    for (let h = 0; h < H; h++) {
      const i = w.users.history[u * H + h]
      if (i < 0) continue
      addFeatures(observed, f, L, i, 1)
      const c = w.items.attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category]
      picks.set(c, (picks.get(c) ?? 0) + 1)
    }
    for (let step = 0; picks.size && step < STEPS; step++) {
      // ∇ = Σ picks φ − Σ_c n_c E_c[φ] − precision·θ;  diagonal Hessian ≈ Σ_c n_c Var_c[φ] + precision.
      for (let g = 0; g < L.width; g++)
        grad[g] = observed[g] - precision[g] * (theta[g] - (g === L.price ? (lo + hi) / 2 : 0))
      const curvature = Float64Array.from(precision)
      for (const [c, n] of picks) {
        const pool = byCategory.get(c)!
        let max = -Infinity
        for (let k = 0; k < pool.length; k++) max = Math.max(max, (utilities[k] = utility(theta, f, L, pool[k])))
        let z = 0
        mean.fill(0)
        second.fill(0)
        for (let k = 0; k < pool.length; k++) {
          const i = pool[k]
          const p = Math.exp(utilities[k] - max)
          z += p
          addFeatures(mean, f, L, i, p, second)
        }
        for (let g = 0; g < L.width; g++) {
          const m = mean[g] / z
          grad[g] -= n * m
          curvature[g] += n * Math.max(0, second[g] / z - m * m)
        }
      }
      let moved = 0
      for (let g = 0; g < L.width; g++) {
        const delta = (DAMPING * grad[g]) / curvature[g]
        theta[g] += delta
        moved = Math.max(moved, Math.abs(delta))
      }
      theta[L.price] = Math.min(hi, Math.max(lo, theta[L.price]))
      if (moved < TOLERANCE) break
    }
    out.set(theta, u * L.width)
  }
  return out
}
