import type { WorldConfig } from './config.ts'
import { Encoder, noiseVector, writeNoisy } from '../../functions/text-encoder/encoder.ts'
import { Rng } from '../../functions/text-encoder/rng.ts'
import {
  ITEM_ATTR,
  ITEM_ATTR_COLS,
  QUERY_ATTR_COLS,
  categoryPriceZ,
  examination,
  sigmoid,
  tasteLayout,
  truth,
  utilityParts,
  type UtilityInputs,
} from './choice.ts'
import {
  CATEGORY_WORDS,
  COLOUR_WORDS,
  FILLER_WORDS,
  MATERIAL_WORDS,
  PATTERN_WORDS,
  SHAPE_WORDS,
  VARIANT_WORDS,
  brandWord,
} from '../../functions/text-encoder/vocab.ts'
import { TextVocab } from '../../functions/text-encoder/text-vocab.ts'
import { SESSION_COLS, UTILITY_COLS, type ItemMeta, type QueryMeta, type UserMeta, type World } from './world.ts'

export type Progress = (step: string, done: number, total: number) => void

const M = MATERIAL_WORDS.length
const K = COLOUR_WORDS.length
const P = PATTERN_WORDS.length
const S = SHAPE_WORDS.length
const MAX_VARIANTS = 4

/** Image "visual concepts": category, colour, pattern, shape (no brand, no material). */
function imageTokens(categories: number, c: number, k: number, p: number, s: number): number[] {
  return [c, categories + k, categories + K + p, categories + K + P + s]
}

export function generateWorld(config: WorldConfig, seed: number, progress: Progress = () => {}): World {
  const C = config.categories
  if (C > CATEGORY_WORDS.length) throw new Error(`at most ${CATEGORY_WORDS.length} categories`)
  const B = config.brandsPerCategory
  const brands = C * B
  const vocab = new TextVocab(C, brands)
  const textEncoder = new Encoder(seed, 'text', vocab.size, config.textDim)
  const imageEncoder = new Encoder(seed, 'image', C + K + P + S, config.imageDim)
  const layout = tasteLayout(M, K, P, S)

  // ---- brands and category-level tendencies --------------------------------------------
  const rngCat = new Rng(seed, 'catalog/categories')
  const brandTier = new Float32Array(brands)
  for (let b = 0; b < brands; b++) brandTier[b] = rngCat.normal()
  const catBasePrice = Array.from({ length: C }, () => Math.exp(3.5 + 0.8 * rngCat.normal()))
  // Each category favours some materials, colours, patterns and shapes (squared normals: a few dominate).
  const skew = (n: number) => Array.from({ length: n }, () => 0.05 + rngCat.normal() ** 2)
  const catMaterial = Array.from({ length: C }, () => skew(M))
  const catColour = Array.from({ length: C }, () => skew(K))
  const catPattern = Array.from({ length: C }, () => skew(P))
  const catShape = Array.from({ length: C }, () => skew(S))

  // ---- items: families of near-duplicate variants ----------------------------------------
  const N = config.items
  const attr = new Int32Array(N * ITEM_ATTR_COLS)
  const price = new Float32Array(N)
  const textEmb = new Float32Array(N * config.textDim)
  const imageEmb = new Float32Array(N * config.imageDim)
  const itemMeta: ItemMeta[] = []
  const rngItems = new Rng(seed, 'catalog/items')
  const rngNoise = new Rng(seed, 'catalog/noise')
  let family = 0
  for (let i = 0; i < N; family++) {
    const c = rngItems.int(C)
    const b = c * B + rngItems.int(B)
    const m = rngItems.categorical(catMaterial[c])
    const k = rngItems.categorical(catColour[c])
    const p = rngItems.categorical(catPattern[c])
    const s = rngItems.categorical(catShape[c])
    const filler = rngItems.int(FILLER_WORDS.length)
    let variants = 1
    while (variants < MAX_VARIANTS && rngItems.bernoulli(0.5)) variants++
    const basePrice = catBasePrice[c] * Math.exp(0.3 * brandTier[b] + 0.35 * rngItems.normal())
    const firstVariant = rngItems.int(VARIANT_WORDS.length - variants + 1)
    // Variants share one product photo style; each shot adds a little of its own noise.
    const image = imageEncoder.encode(imageTokens(C, c, k, p, s))
    const familyImageNoise = noiseVector(rngNoise, config.imageDim, config.imageNoise)
    for (let j = 0; j < variants && i < N; j++, i++) {
      const v = firstVariant + j
      const a = i * ITEM_ATTR_COLS
      attr[a + ITEM_ATTR.category] = c
      attr[a + ITEM_ATTR.brand] = b
      attr[a + ITEM_ATTR.material] = m
      attr[a + ITEM_ATTR.colour] = k
      attr[a + ITEM_ATTR.pattern] = p
      attr[a + ITEM_ATTR.shape] = s
      attr[a + ITEM_ATTR.family] = family
      const cents = Math.round(basePrice * (1 + 0.1 * v) * Math.exp(0.03 * rngItems.normal()) * 100)
      price[i] = cents / 100
      const text = textEncoder.encode([
        vocab.brand + b,
        vocab.material + m,
        vocab.category + c,
        vocab.variant + v,
        vocab.filler + filler,
      ])
      writeNoisy(textEmb, i * config.textDim, text, noiseVector(rngNoise, config.textDim, config.textNoise))
      writeNoisy(imageEmb, i * config.imageDim, image, familyImageNoise, noiseVector(rngNoise, config.imageDim, 0.1))
      itemMeta.push({
        id: `i${String(i).padStart(6, '0')}`,
        family,
        title: `${brandWord(b)} ${FILLER_WORDS[filler]} ${MATERIAL_WORDS[m]} ${CATEGORY_WORDS[c]} ${VARIANT_WORDS[v]}`,
        category: CATEGORY_WORDS[c],
        brand: brandWord(b),
        material: MATERIAL_WORDS[m],
        colour: COLOUR_WORDS[k],
        pattern: PATTERN_WORDS[p],
        shape: SHAPE_WORDS[s],
        price: cents / 100,
      })
    }
    if (i % 1000 < MAX_VARIANTS) progress('items', i, N)
  }
  progress('items', N, N)

  const byCategory: number[][] = Array.from({ length: C }, () => [])
  for (let i = 0; i < N; i++) byCategory[attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category]].push(i)
  const priceZ = categoryPriceZ(attr, price)

  // ---- queries: category, optionally one text attribute, one image attribute, or material × colour
  const queryAttrRows: number[][] = []
  const queryKey = new Map<string, number>()
  for (let c = 0; c < C; c++) {
    const add = (b: number, m: number, k: number, p: number) => {
      queryKey.set([c, b, m, k, p].join(','), queryAttrRows.length)
      queryAttrRows.push([c, b, m, k, p])
    }
    add(-1, -1, -1, -1)
    for (let j = 0; j < B; j++) add(c * B + j, -1, -1, -1)
    for (let m = 0; m < M; m++) add(-1, m, -1, -1)
    for (let k = 0; k < K; k++) add(-1, -1, k, -1)
    for (let p = 0; p < P; p++) add(-1, -1, -1, p)
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) add(-1, m, k, -1)
  }
  const Q = queryAttrRows.length
  const queryAttr = new Int32Array(Q * QUERY_ATTR_COLS)
  const queryEmb = new Float32Array(Q * config.textDim)
  const queryMeta: QueryMeta[] = []
  const rngQueries = new Rng(seed, 'queries')
  queryAttrRows.forEach(([c, b, m, k, p], q) => {
    queryAttr.set([c, b, m, k, p], q * QUERY_ATTR_COLS)
    const tokens = [vocab.category + c]
    const words = [CATEGORY_WORDS[c]]
    if (m >= 0) (tokens.push(vocab.material + m), words.unshift(MATERIAL_WORDS[m]))
    if (p >= 0) (tokens.push(vocab.pattern + p), words.unshift(PATTERN_WORDS[p]))
    if (k >= 0) (tokens.push(vocab.colour + k), words.unshift(COLOUR_WORDS[k]))
    if (b >= 0) (tokens.push(vocab.brand + b), words.unshift(brandWord(b)))
    const e = textEncoder.encode(tokens)
    writeNoisy(queryEmb, q * config.textDim, e, noiseVector(rngQueries, config.textDim, config.queryNoise))
    queryMeta.push({
      id: `q${String(q).padStart(5, '0')}`,
      text: words.join(' ').toLowerCase(),
      category: CATEGORY_WORDS[c],
      brand: b >= 0 ? brandWord(b) : null,
      material: m >= 0 ? MATERIAL_WORDS[m] : null,
      colour: k >= 0 ? COLOUR_WORDS[k] : null,
      pattern: p >= 0 ? PATTERN_WORDS[p] : null,
    })
  })
  progress('queries', Q, Q)

  // ---- users: hidden tastes, category interests, activity, history ----------------------
  const U = config.users
  const taste = new Float32Array(U * layout.width)
  const interests: number[][] = []
  const activity = new Float64Array(U)
  const rngUsers = new Rng(seed, 'users')
  for (let u = 0; u < U; u++) {
    const t = u * layout.width
    const sd = config.choice.taste
    for (let j = 0; j < M; j++) taste[t + layout.material + j] = sd.material * rngUsers.normal()
    for (let j = 0; j < K; j++) taste[t + layout.colour + j] = sd.colour * rngUsers.normal()
    for (let j = 0; j < P; j++) taste[t + layout.pattern + j] = sd.pattern * rngUsers.normal()
    for (let j = 0; j < S; j++) taste[t + layout.shape + j] = sd.shape * rngUsers.normal()
    taste[t + layout.tier] = sd.tier * rngUsers.normal()
    taste[t + layout.price] = sd.price[0] + (sd.price[1] - sd.price[0]) * rngUsers.uniform()
    const w = new Array(C).fill(0)
    for (const c of rngUsers.sample(C, Math.min(C, 3 + rngUsers.int(4)))) w[c] = 0.2 + rngUsers.uniform()
    interests.push(w)
    activity[u] = Math.exp(rngUsers.normal())
  }

  const utilInputs: UtilityInputs = { itemAttr: attr, itemPriceZ: priceZ, brandTier, taste, queryAttr, layout }
  const bareQuery = (c: number) => queryKey.get([c, -1, -1, -1, -1].join(','))!
  const parts = new Float32Array(UTILITY_COLS)
  const tasteUtility = (u: number, c: number, i: number) => {
    utilityParts(utilInputs, config.choice, u, bareQuery(c), i, parts, 0)
    return parts[0] + parts[1] + parts[2]
  }

  const H = config.historyMax
  const history = new Int32Array(U * H).fill(-1)
  const userMeta: UserMeta[] = []
  const rngHistory = new Rng(seed, 'users/history')
  for (let u = 0; u < U; u++) {
    const len = rngHistory.bernoulli(config.coldUserShare) ? 0 : 5 + rngHistory.int(H - 4)
    let filled = 0
    for (let h = 0; h < len; h++) {
      // A past purchase: a category of interest, then a taste-weighted pick among a few browsed items.
      const c = rngHistory.categorical(interests[u])
      const pool = byCategory[c]
      if (pool.length === 0) continue
      const browsed = Array.from({ length: Math.min(20, pool.length) }, () => pool[rngHistory.int(pool.length)])
      const weights = browsed.map((i) => Math.exp(tasteUtility(u, c, i)))
      history[u * H + filled++] = browsed[rngHistory.categorical(weights)]
    }
    userMeta.push({ id: `u${String(u).padStart(5, '0')}`, historyLength: filled })
  }
  progress('users', U, U)

  // ---- sessions: query choice, retrieval, the logged list and its labels ----------------
  const SN = config.sessions
  const rngSessions = new Rng(seed, 'sessions')
  const rngRetrieval = new Rng(seed, 'sessions/retrieval')
  const rngClicks = new Rng(seed, 'sessions/clicks')
  const staticPrior = new Float32Array(N)
  const rngPrior = new Rng(seed, 'retrieval/prior')
  for (let i = 0; i < N; i++) staticPrior[i] = 0.4 * rngPrior.normal()

  const activityCdf = cumulative(activity)
  const lengths = new Int32Array(SN)
  for (let s = 0; s < SN; s++) lengths[s] = config.listLengths[rngSessions.categorical(config.listLengthWeights)]
  // Lists can be shorter than drawn when a category is small; rows are counted after the fact.
  const tableRows: number[] = []
  const maxRows = lengths.reduce((a, b) => a + b, 0)
  const cand = {
    item: new Int32Array(maxRows),
    retrieval: new Float32Array(maxRows),
    click: new Uint8Array(maxRows),
    purchase: new Uint8Array(maxRows),
    pClick: new Float32Array(maxRows),
    pPurchase: new Float32Array(maxRows),
    utility: new Float32Array(maxRows * UTILITY_COLS),
  }
  const offset = new Int32Array(SN + 1)
  const trainEnd = Math.round(SN * config.splits.train)
  const validEnd = Math.round(SN * (config.splits.train + config.splits.valid))
  let r = 0
  const famSeen = new Map<number, number>()
  for (let s = 0; s < SN; s++) {
    const u = lowerBound(activityCdf, rngSessions.uniform() * activityCdf[U - 1])
    const c = rngSessions.bernoulli(0.8) ? rngSessions.categorical(interests[u]) : rngSessions.int(C)
    const q = chooseQuery(rngSessions, u, c)
    const L = lengths[s]

    // Retrieval ranks by a noisy text-only relevance: category, requested brand/material words,
    // a static per-item prior. It cannot see colour, pattern, shape or the user.
    const qa = q * QUERY_ATTR_COLS
    const inCat = byCategory[c]
    const pool = new Set<number>()
    const want = Math.min(inCat.length, 3 * L)
    for (const j of rngRetrieval.sample(inCat.length, want)) {
      const i = inCat[j]
      pool.add(i)
      // Near-duplicates come along: retrieval matches them on almost the same text.
      const f = attr[i * ITEM_ATTR_COLS + ITEM_ATTR.family]
      for (let n = i - MAX_VARIANTS; n <= i + MAX_VARIANTS; n++)
        if (n >= 0 && n < N && attr[n * ITEM_ATTR_COLS + ITEM_ATTR.family] === f) pool.add(n)
    }
    const textScore = (i: number, catMatch: boolean) => {
      const a = i * ITEM_ATTR_COLS
      let score = catMatch ? 1 : 0.5
      if (queryAttr[qa + 1] >= 0 && queryAttr[qa + 1] === attr[a + ITEM_ATTR.brand]) score += 0.8
      if (queryAttr[qa + 2] >= 0 && queryAttr[qa + 2] === attr[a + ITEM_ATTR.material]) score += 0.8
      return score + staticPrior[i] + config.retrievalNoise * rngRetrieval.normal()
    }
    const scored: [number, number][] = [...pool].sort((a, b) => a - b).map((i) => [i, textScore(i, true)])
    scored.sort((a, b) => b[1] - a[1] || a[0] - b[0])
    const nOff = Math.min(Math.round(config.offCategoryShare * L), N - inCat.length)
    const list = scored.slice(0, L - nOff)
    const taken = new Set(list.map(([i]) => i))
    while (list.length < L && taken.size < N) {
      const i = rngRetrieval.int(N)
      if (taken.has(i) || attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category] === c) continue
      taken.add(i)
      list.push([i, textScore(i, false)])
    }
    list.sort((a, b) => b[1] - a[1] || a[0] - b[0])

    // The user scans the displayed list: position bias, near-duplicate fatigue, then purchase.
    famSeen.clear()
    offset[s] = r
    for (let k = 0; k < list.length; k++, r++) {
      const [i, score] = list[k]
      cand.item[r] = i
      cand.retrieval[r] = score
      utilityParts(utilInputs, config.choice, u, q, i, cand.utility, r * UTILITY_COLS)
      const v = cand.utility[r * 3] + cand.utility[r * 3 + 1] + cand.utility[r * 3 + 2]
      const t = truth(v, config.choice)
      cand.pClick[r] = t.pClick
      cand.pPurchase[r] = t.pPurchase
      const f = attr[i * ITEM_ATTR_COLS + ITEM_ATTR.family]
      const d = famSeen.get(f) ?? 0
      famSeen.set(f, d + 1)
      const pc = examination(k, config.choice) * sigmoid(v + config.choice.clickBias - config.choice.dupPenalty * d)
      const clicked = rngClicks.bernoulli(pc)
      const bought = clicked && rngClicks.bernoulli(sigmoid(v + config.choice.purchaseBias))
      cand.click[r] = clicked ? 1 : 0
      cand.purchase[r] = bought ? 1 : 0
    }
    tableRows.push(u, q, s < trainEnd ? 0 : s < validEnd ? 1 : 2, list.length)
    if (s % 2000 === 0) progress('sessions', s, SN)
  }
  offset[SN] = r
  progress('sessions', SN, SN)

  return {
    config,
    seed,
    items: { count: N, attr, price, priceZ, textEmb, imageEmb, meta: itemMeta },
    brandTier,
    users: { count: U, history, taste, meta: userMeta },
    queries: { count: Q, attr: queryAttr, emb: queryEmb, meta: queryMeta },
    sessions: { count: SN, table: Int32Array.from(tableRows), offset },
    candidates: {
      count: r,
      item: cand.item.slice(0, r),
      retrieval: cand.retrieval.slice(0, r),
      click: cand.click.slice(0, r),
      purchase: cand.purchase.slice(0, r),
      pClick: cand.pClick.slice(0, r),
      pPurchase: cand.pPurchase.slice(0, r),
      utility: cand.utility.slice(0, r * UTILITY_COLS),
    },
  }

  /** Query template: bare 35 %, one text attribute 25 %, one image attribute 25 %, material × colour 15 %. */
  function chooseQuery(rng: Rng, u: number, c: number): number {
    const t = u * layout.width
    // Half the time a requested attribute follows the user's taste, otherwise any value.
    const pick = (n: number, from: number) =>
      rng.bernoulli(0.5)
        ? rng.categorical(Array.from({ length: n }, (_, j) => Math.exp(taste[t + from + j])))
        : rng.int(n)
    const x = rng.uniform()
    let b = -1,
      m = -1,
      k = -1,
      p = -1
    if (x < 0.35) {
      // bare category
    } else if (x < 0.45) b = c * B + rng.int(B)
    else if (x < 0.6) m = pick(M, layout.material)
    else if (x < 0.75) k = pick(K, layout.colour)
    else if (x < 0.85) p = pick(P, layout.pattern)
    else ((m = pick(M, layout.material)), (k = pick(K, layout.colour)))
    return queryKey.get([c, b, m, k, p].join(','))!
  }
}

function cumulative(w: Float64Array): Float64Array {
  const out = new Float64Array(w.length)
  let s = 0
  for (let i = 0; i < w.length; i++) out[i] = s += w[i]
  return out
}

/** First index whose cumulative value exceeds x. */
function lowerBound(cdf: Float64Array, x: number): number {
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cdf[mid] > x) hi = mid
    else lo = mid + 1
  }
  return lo
}
