import type { ChoiceParams } from './config.ts'

/**
 * The known choice model. A user u issuing query q sees a list; for the item at 0-based
 * position k with total utility v (see `utilityParts`):
 *   p(examine)             = (k + 1)^−examDecay                       position bias
 *   p(click | examined)    = σ(v + clickBias − dupPenalty · d_k)        d_k = same-family items above k
 *   p(purchase | click)    = σ(v + purchaseBias)
 * The per-candidate truth the world stores is the same without position bias and without
 * the list effect: pClick = σ(v + clickBias), pPurchase = pClick · σ(v + purchaseBias).
 */
export const ITEM_ATTR = { category: 0, brand: 1, material: 2, colour: 3, pattern: 4, shape: 5, family: 6 } as const
export const ITEM_ATTR_COLS = 7
export const QUERY_ATTR = { category: 0, brand: 1, material: 2, colour: 3, pattern: 4 } as const
export const QUERY_ATTR_COLS = 5

/** Layout of a user's hidden taste row: [material | colour | pattern | shape | tier | priceSensitivity]. */
export interface TasteLayout {
  material: number
  colour: number
  pattern: number
  shape: number
  tier: number
  price: number
  width: number
}

export function tasteLayout(materials: number, colours: number, patterns: number, shapes: number): TasteLayout {
  const colour = materials
  const pattern = colour + colours
  const shape = pattern + patterns
  const tier = shape + shapes
  return { material: 0, colour, pattern, shape, tier, price: tier + 1, width: tier + 2 }
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))

export function examination(position: number, params: ChoiceParams): number {
  return Math.pow(position + 1, -params.examDecay)
}

export interface UtilityInputs {
  itemAttr: Int32Array
  itemPriceZ: Float32Array
  brandTier: Float32Array
  taste: Float32Array
  queryAttr: Int32Array
  layout: TasteLayout
}

/**
 * Utility of `item` for (user, query), split by what reveals it:
 *   shared — category match and price (visible in text and image, and as a feature),
 *   text   — requested brand/material matches + taste for material and brand tier (text-only),
 *   image  — requested colour/pattern matches + taste for colour, pattern, shape (image-only).
 * Writes the three parts into out[offset..offset+3).
 */
export function utilityParts(
  w: UtilityInputs,
  params: ChoiceParams,
  user: number,
  query: number,
  item: number,
  out: Float32Array,
  offset: number,
): void {
  const ia = item * ITEM_ATTR_COLS
  const qa = query * QUERY_ATTR_COLS
  const t = user * w.layout.width
  const L = w.layout
  const match = (want: number, have: number) => (want < 0 ? 0 : want === have ? params.attrMatch : -params.attrMatch)

  const shared =
    (w.itemAttr[ia + ITEM_ATTR.category] === w.queryAttr[qa + QUERY_ATTR.category] ? 0 : params.offCategory) -
    w.taste[t + L.price] * w.itemPriceZ[item]
  const text =
    match(w.queryAttr[qa + QUERY_ATTR.brand], w.itemAttr[ia + ITEM_ATTR.brand]) +
    match(w.queryAttr[qa + QUERY_ATTR.material], w.itemAttr[ia + ITEM_ATTR.material]) +
    w.taste[t + L.material + w.itemAttr[ia + ITEM_ATTR.material]] +
    w.taste[t + L.tier] * w.brandTier[w.itemAttr[ia + ITEM_ATTR.brand]]
  const image =
    match(w.queryAttr[qa + QUERY_ATTR.colour], w.itemAttr[ia + ITEM_ATTR.colour]) +
    match(w.queryAttr[qa + QUERY_ATTR.pattern], w.itemAttr[ia + ITEM_ATTR.pattern]) +
    w.taste[t + L.colour + w.itemAttr[ia + ITEM_ATTR.colour]] +
    w.taste[t + L.pattern + w.itemAttr[ia + ITEM_ATTR.pattern]] +
    w.taste[t + L.shape + w.itemAttr[ia + ITEM_ATTR.shape]]
  out[offset] = shared
  out[offset + 1] = text
  out[offset + 2] = image
}

/** Per-candidate truth without position bias or list effect. */
export function truth(v: number, params: ChoiceParams): { pClick: number; pPurchase: number } {
  const pClick = sigmoid(v + params.clickBias)
  return { pClick, pPurchase: pClick * sigmoid(v + params.purchaseBias) }
}

/** Expected graded gain (2^g − 1 with purchase g=2, click g=1) under the truth: pClick + 2·pPurchase. */
export function expectedGain(pClick: number, pPurchase: number): number {
  return pClick + 2 * pPurchase
}

/**
 * Probability of a click at each position of a displayed list, under the full model
 * (position bias and the near-duplicate list effect). `utility[i]` and `family[i]` are
 * the i-th displayed item's total utility and family.
 */
export function listClickProbabilities(
  utility: ArrayLike<number>,
  family: ArrayLike<number>,
  params: ChoiceParams,
): Float64Array {
  const seen = new Map<number, number>()
  const p = new Float64Array(utility.length)
  for (let k = 0; k < utility.length; k++) {
    const d = seen.get(family[k]) ?? 0
    p[k] = examination(k, params) * sigmoid(utility[k] + params.clickBias - params.dupPenalty * d)
    seen.set(family[k], d + 1)
  }
  return p
}

/** Expected number of purchases from a displayed list under the full model. */
export function expectedPurchases(utility: ArrayLike<number>, family: ArrayLike<number>, params: ChoiceParams): number {
  const pc = listClickProbabilities(utility, family, params)
  let total = 0
  for (let k = 0; k < pc.length; k++) total += pc[k] * sigmoid(utility[k] + params.purchaseBias)
  return total
}

/** Price feature of the utility: log(price / median price of the item's category). */
export function categoryPriceZ(itemAttr: Int32Array, price: Float32Array): Float32Array {
  const byCategory = new Map<number, number[]>()
  for (let i = 0; i < price.length; i++) {
    const c = itemAttr[i * ITEM_ATTR_COLS + ITEM_ATTR.category]
    if (!byCategory.has(c)) byCategory.set(c, [])
    byCategory.get(c)!.push(i)
  }
  const z = new Float32Array(price.length)
  for (const members of byCategory.values()) {
    const sorted = members.map((i) => price[i]).sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]
    for (const i of members) z[i] = Math.log(price[i] / median)
  }
  return z
}
