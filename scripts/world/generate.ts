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
  type TasteLayout,
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

/**
 * Every step draws from its own named Rng stream (functions/text-encoder/rng.ts), so the steps
 * below only have to keep the order of the draws within each stream, not across them.
 */
export function generateWorld(config: WorldConfig, seed: number, progress: Progress = () => {}): World {
  if (config.categories > CATEGORY_WORDS.length) throw new Error(`at most ${CATEGORY_WORDS.length} categories`)
  const setup = makeSetup(config, seed)
  const tendencies = drawCategoryTendencies(config, seed)
  const items = generateItems(setup, tendencies, progress)
  const byCategory = itemsByCategory(items.attr, config.categories)
  const { queries, queryKey } = generateQueries(setup)
  progress('queries', queries.count, queries.count)
  const tastes = drawUserTastes(setup)
  const utility: UtilityInputs = {
    itemAttr: items.attr,
    itemPriceZ: items.priceZ,
    brandTier: tendencies.brandTier,
    taste: tastes.taste,
    queryAttr: queries.attr,
    layout: setup.layout,
  }
  const users = drawHistories(setup, tastes, byCategory, tasteUtilityOf(config, utility, queryKey))
  progress('users', config.users, config.users)
  const { sessions, candidates } = generateSessions(
    { setup, items, byCategory, queries, queryKey, tastes, utility },
    progress,
  )
  return {
    config,
    seed,
    items,
    brandTier: tendencies.brandTier,
    users,
    queries,
    sessions,
    candidates,
  }
}

// ---- setup: the token vocabulary, the two encoders, the taste layout ------------------------

/** What every step reads besides its own Rng stream. */
interface Setup {
  config: WorldConfig
  seed: number
  vocab: TextVocab
  textEncoder: Encoder
  imageEncoder: Encoder
  layout: TasteLayout
}

function makeSetup(config: WorldConfig, seed: number): Setup {
  const C = config.categories
  const vocab = new TextVocab(C, C * config.brandsPerCategory)
  return {
    config,
    seed,
    vocab,
    textEncoder: new Encoder(seed, 'text', vocab.size, config.textDim),
    imageEncoder: new Encoder(seed, 'image', C + K + P + S, config.imageDim),
    layout: tasteLayout(M, K, P, S),
  }
}

/** Image "visual concepts": category, colour, pattern, shape (no brand, no material). */
function imageTokens(categories: number, c: number, k: number, p: number, s: number): number[] {
  return [c, categories + k, categories + K + p, categories + K + P + s]
}

// ---- brands and category-level tendencies --------------------------------------------------

interface CategoryTendencies {
  brandTier: Float32Array // [brands]
  basePrice: number[] // [categories]
  material: number[][] // [categories][materials]: relative odds
  colour: number[][]
  pattern: number[][]
  shape: number[][]
}

function drawCategoryTendencies(config: WorldConfig, seed: number): CategoryTendencies {
  const C = config.categories
  const brands = C * config.brandsPerCategory
  const rng = new Rng(seed, 'catalog/categories')
  const brandTier = new Float32Array(brands)
  for (let b = 0; b < brands; b++) brandTier[b] = rng.normal()
  const basePrice = Array.from({ length: C }, () => Math.exp(3.5 + 0.8 * rng.normal()))
  // Each category favours some materials, colours, patterns and shapes (squared normals: a few dominate).
  const skew = (n: number) => Array.from({ length: n }, () => 0.05 + rng.normal() ** 2)
  const material = Array.from({ length: C }, () => skew(M))
  const colour = Array.from({ length: C }, () => skew(K))
  const pattern = Array.from({ length: C }, () => skew(P))
  const shape = Array.from({ length: C }, () => skew(S))
  return { brandTier, basePrice, material, colour, pattern, shape }
}

// ---- items: families of near-duplicate variants --------------------------------------------

/** What the variants of one product family share. */
interface Family {
  category: number
  brand: number
  material: number
  colour: number
  pattern: number
  shape: number
  filler: number
  variants: number
  basePrice: number
  firstVariant: number
}

function drawFamily(rng: Rng, config: WorldConfig, tendencies: CategoryTendencies): Family {
  const B = config.brandsPerCategory
  const category = rng.int(config.categories)
  const brand = category * B + rng.int(B)
  const material = rng.categorical(tendencies.material[category])
  const colour = rng.categorical(tendencies.colour[category])
  const pattern = rng.categorical(tendencies.pattern[category])
  const shape = rng.categorical(tendencies.shape[category])
  const filler = rng.int(FILLER_WORDS.length)
  let variants = 1
  while (variants < MAX_VARIANTS && rng.bernoulli(0.5)) variants++
  const basePrice = tendencies.basePrice[category] * Math.exp(0.3 * tendencies.brandTier[brand] + 0.35 * rng.normal())
  const firstVariant = rng.int(VARIANT_WORDS.length - variants + 1)
  return { category, brand, material, colour, pattern, shape, filler, variants, basePrice, firstVariant }
}

function generateItems(setup: Setup, tendencies: CategoryTendencies, progress: Progress): World['items'] {
  const { config, seed, vocab, textEncoder, imageEncoder } = setup
  const N = config.items
  const attr = new Int32Array(N * ITEM_ATTR_COLS)
  const price = new Float32Array(N)
  const textEmb = new Float32Array(N * config.textDim)
  const imageEmb = new Float32Array(N * config.imageDim)
  const meta: ItemMeta[] = []
  const rngItems = new Rng(seed, 'catalog/items')
  const rngNoise = new Rng(seed, 'catalog/noise')
  for (let i = 0, family = 0; i < N; family++) {
    const f = drawFamily(rngItems, config, tendencies)
    // Variants share one product photo style; each shot adds a little of its own noise.
    const image = imageEncoder.encode(imageTokens(config.categories, f.category, f.colour, f.pattern, f.shape))
    const familyImageNoise = noiseVector(rngNoise, config.imageDim, config.imageNoise)
    for (let j = 0; j < f.variants && i < N; j++, i++) {
      const v = f.firstVariant + j
      writeItemAttr(attr, i, f, family)
      const cents = Math.round(f.basePrice * (1 + 0.1 * v) * Math.exp(0.03 * rngItems.normal()) * 100)
      price[i] = cents / 100
      const text = textEncoder.encode([
        vocab.brand + f.brand,
        vocab.material + f.material,
        vocab.category + f.category,
        vocab.variant + v,
        vocab.filler + f.filler,
      ])
      writeNoisy(textEmb, i * config.textDim, text, noiseVector(rngNoise, config.textDim, config.textNoise))
      writeNoisy(imageEmb, i * config.imageDim, image, familyImageNoise, noiseVector(rngNoise, config.imageDim, 0.1))
      meta.push(itemMeta(i, family, f, v, cents / 100))
    }
    if (i % 1000 < MAX_VARIANTS) progress('items', i, N)
  }
  progress('items', N, N)
  return { count: N, attr, price, priceZ: categoryPriceZ(attr, price), textEmb, imageEmb, meta }
}

function writeItemAttr(attr: Int32Array, i: number, f: Family, family: number) {
  const a = i * ITEM_ATTR_COLS
  attr[a + ITEM_ATTR.category] = f.category
  attr[a + ITEM_ATTR.brand] = f.brand
  attr[a + ITEM_ATTR.material] = f.material
  attr[a + ITEM_ATTR.colour] = f.colour
  attr[a + ITEM_ATTR.pattern] = f.pattern
  attr[a + ITEM_ATTR.shape] = f.shape
  attr[a + ITEM_ATTR.family] = family
}

function itemMeta(i: number, family: number, f: Family, variant: number, price: number): ItemMeta {
  const brand = brandWord(f.brand)
  const [material, category] = [MATERIAL_WORDS[f.material], CATEGORY_WORDS[f.category]]
  return {
    id: `i${String(i).padStart(6, '0')}`,
    family,
    title: `${brand} ${FILLER_WORDS[f.filler]} ${material} ${category} ${VARIANT_WORDS[variant]}`,
    category,
    brand,
    material,
    colour: COLOUR_WORDS[f.colour],
    pattern: PATTERN_WORDS[f.pattern],
    shape: SHAPE_WORDS[f.shape],
    price,
  }
}

function itemsByCategory(attr: Int32Array, categories: number): number[][] {
  const byCategory: number[][] = Array.from({ length: categories }, () => [])
  for (let i = 0; i < attr.length / ITEM_ATTR_COLS; i++)
    byCategory[attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category]].push(i)
  return byCategory
}

// ---- queries: category, optionally one text attribute, one image attribute, or material × colour

/** A query's lookup key: its attribute row [category, brand, material, colour, pattern], -1 = not requested. */
const queryKeyOf = (c: number, b: number, m: number, k: number, p: number) => [c, b, m, k, p].join(',')

function enumerateQueries(config: WorldConfig): number[][] {
  const B = config.brandsPerCategory
  const rows: number[][] = []
  for (let c = 0; c < config.categories; c++) {
    const add = (b: number, m: number, k: number, p: number) => rows.push([c, b, m, k, p])
    add(-1, -1, -1, -1)
    for (let j = 0; j < B; j++) add(c * B + j, -1, -1, -1)
    for (let m = 0; m < M; m++) add(-1, m, -1, -1)
    for (let k = 0; k < K; k++) add(-1, -1, k, -1)
    for (let p = 0; p < P; p++) add(-1, -1, -1, p)
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) add(-1, m, k, -1)
  }
  return rows
}

function generateQueries(setup: Setup): { queries: World['queries']; queryKey: Map<string, number> } {
  const { config, seed, vocab, textEncoder } = setup
  const rows = enumerateQueries(config)
  const queryKey = new Map(rows.map(([c, b, m, k, p], q) => [queryKeyOf(c, b, m, k, p), q]))
  const Q = rows.length
  const attr = new Int32Array(Q * QUERY_ATTR_COLS)
  const emb = new Float32Array(Q * config.textDim)
  const meta: QueryMeta[] = []
  const rng = new Rng(seed, 'queries')
  rows.forEach(([c, b, m, k, p], q) => {
    attr.set([c, b, m, k, p], q * QUERY_ATTR_COLS)
    const tokens = [vocab.category + c]
    const words = [CATEGORY_WORDS[c]]
    if (m >= 0) (tokens.push(vocab.material + m), words.unshift(MATERIAL_WORDS[m]))
    if (p >= 0) (tokens.push(vocab.pattern + p), words.unshift(PATTERN_WORDS[p]))
    if (k >= 0) (tokens.push(vocab.colour + k), words.unshift(COLOUR_WORDS[k]))
    if (b >= 0) (tokens.push(vocab.brand + b), words.unshift(brandWord(b)))
    const e = textEncoder.encode(tokens)
    writeNoisy(emb, q * config.textDim, e, noiseVector(rng, config.textDim, config.queryNoise))
    meta.push({
      id: `q${String(q).padStart(5, '0')}`,
      text: words.join(' ').toLowerCase(),
      category: CATEGORY_WORDS[c],
      brand: b >= 0 ? brandWord(b) : null,
      material: m >= 0 ? MATERIAL_WORDS[m] : null,
      colour: k >= 0 ? COLOUR_WORDS[k] : null,
      pattern: p >= 0 ? PATTERN_WORDS[p] : null,
    })
  })
  return { queries: { count: Q, attr, emb, meta }, queryKey }
}

// ---- users: hidden tastes, category interests, activity, history ---------------------------

interface UserTastes {
  taste: Float32Array // [users, layout.width]
  interests: number[][] // [users][categories]: relative odds, 0 = never
  activity: Float64Array // [users]: relative odds of starting a session
}

function drawUserTastes(setup: Setup): UserTastes {
  const { config, layout } = setup
  const U = config.users
  const C = config.categories
  const taste = new Float32Array(U * layout.width)
  const interests: number[][] = []
  const activity = new Float64Array(U)
  const rng = new Rng(setup.seed, 'users')
  for (let u = 0; u < U; u++) {
    const t = u * layout.width
    const sd = config.choice.taste
    for (let j = 0; j < M; j++) taste[t + layout.material + j] = sd.material * rng.normal()
    for (let j = 0; j < K; j++) taste[t + layout.colour + j] = sd.colour * rng.normal()
    for (let j = 0; j < P; j++) taste[t + layout.pattern + j] = sd.pattern * rng.normal()
    for (let j = 0; j < S; j++) taste[t + layout.shape + j] = sd.shape * rng.normal()
    taste[t + layout.tier] = sd.tier * rng.normal()
    taste[t + layout.price] = sd.price[0] + (sd.price[1] - sd.price[0]) * rng.uniform()
    const w = new Array(C).fill(0)
    for (const c of rng.sample(C, Math.min(C, 3 + rng.int(4)))) w[c] = 0.2 + rng.uniform()
    interests.push(w)
    activity[u] = Math.exp(rng.normal())
  }
  return { taste, interests, activity }
}

type TasteUtility = (user: number, category: number, item: number) => number

/** A user's taste for an item, as its utility under the bare query of the item's category. */
function tasteUtilityOf(config: WorldConfig, utility: UtilityInputs, queryKey: Map<string, number>): TasteUtility {
  const parts = new Float32Array(UTILITY_COLS)
  return (u, c, i) => {
    utilityParts(utility, config.choice, u, queryKey.get(queryKeyOf(c, -1, -1, -1, -1))!, i, parts, 0)
    return parts[0] + parts[1] + parts[2]
  }
}

function drawHistories(
  setup: Setup,
  tastes: UserTastes,
  byCategory: number[][],
  tasteUtility: TasteUtility,
): World['users'] {
  const { config } = setup
  const U = config.users
  const H = config.historyMax
  const history = new Int32Array(U * H).fill(-1)
  const meta: UserMeta[] = []
  const rng = new Rng(setup.seed, 'users/history')
  for (let u = 0; u < U; u++) {
    const len = rng.bernoulli(config.coldUserShare) ? 0 : 5 + rng.int(H - 4)
    let filled = 0
    for (let h = 0; h < len; h++) {
      // A past purchase: a category of interest, then a taste-weighted pick among a few browsed items.
      const c = rng.categorical(tastes.interests[u])
      const pool = byCategory[c]
      if (pool.length === 0) continue
      const browsed = Array.from({ length: Math.min(20, pool.length) }, () => pool[rng.int(pool.length)])
      const weights = browsed.map((i) => Math.exp(tasteUtility(u, c, i)))
      history[u * H + filled++] = browsed[rng.categorical(weights)]
    }
    meta.push({ id: `u${String(u).padStart(5, '0')}`, historyLength: filled })
  }
  return { count: U, history, taste: tastes.taste, meta }
}

// ---- sessions: query choice, retrieval, the logged list and its labels ---------------------

/** The world built before the sessions: all they read. */
interface Built {
  setup: Setup
  items: World['items']
  byCategory: number[][]
  queries: World['queries']
  queryKey: Map<string, number>
  tastes: UserTastes
  utility: UtilityInputs
}

type Candidates = Omit<World['candidates'], 'count'>

/** Session streams: who searches what, what retrieval shows, what the user does with it. */
interface SessionRngs {
  sessions: Rng
  retrieval: Rng
  clicks: Rng
}

function generateSessions(w: Built, progress: Progress): Pick<World, 'sessions' | 'candidates'> {
  const { config, seed } = w.setup
  const SN = config.sessions
  const rng: SessionRngs = {
    sessions: new Rng(seed, 'sessions'),
    retrieval: new Rng(seed, 'sessions/retrieval'),
    clicks: new Rng(seed, 'sessions/clicks'),
  }
  const prior = staticPrior(seed, w.items.count)
  const activityCdf = cumulative(w.tastes.activity)
  const lengths = new Int32Array(SN)
  for (let s = 0; s < SN; s++) lengths[s] = config.listLengths[rng.sessions.categorical(config.listLengthWeights)]
  // Lists can be shorter than drawn when a category is small; rows are counted after the fact.
  const cand = allocateCandidates(lengths.reduce((a, b) => a + b, 0))
  const tableRows: number[] = []
  const offset = new Int32Array(SN + 1)
  const trainEnd = Math.round(SN * config.splits.train)
  const validEnd = Math.round(SN * (config.splits.train + config.splits.valid))
  let r = 0
  for (let s = 0; s < SN; s++) {
    const u = lowerBound(activityCdf, rng.sessions.uniform() * activityCdf[config.users - 1])
    const c = rng.sessions.bernoulli(0.8)
      ? rng.sessions.categorical(w.tastes.interests[u])
      : rng.sessions.int(config.categories)
    const q = chooseQuery(w, rng.sessions, u, c)
    const list = retrieveList(w, rng.retrieval, prior, q, c, lengths[s])
    offset[s] = r
    r = logListChoices(w, rng.clicks, list, u, q, cand, r)
    tableRows.push(u, q, s < trainEnd ? 0 : s < validEnd ? 1 : 2, list.length)
    if (s % 2000 === 0) progress('sessions', s, SN)
  }
  offset[SN] = r
  progress('sessions', SN, SN)
  return {
    sessions: { count: SN, table: Int32Array.from(tableRows), offset },
    candidates: { count: r, ...trimCandidates(cand, r) },
  }
}

/** Each item's popularity as retrieval sees it, independent of any user or query. */
function staticPrior(seed: number, items: number): Float32Array {
  const prior = new Float32Array(items)
  const rng = new Rng(seed, 'retrieval/prior')
  for (let i = 0; i < items; i++) prior[i] = 0.4 * rng.normal()
  return prior
}

function allocateCandidates(rows: number): Candidates {
  return {
    item: new Int32Array(rows),
    retrieval: new Float32Array(rows),
    click: new Uint8Array(rows),
    purchase: new Uint8Array(rows),
    pClick: new Float32Array(rows),
    pPurchase: new Float32Array(rows),
    utility: new Float32Array(rows * UTILITY_COLS),
  }
}

function trimCandidates(cand: Candidates, rows: number): Candidates {
  return {
    item: cand.item.slice(0, rows),
    retrieval: cand.retrieval.slice(0, rows),
    click: cand.click.slice(0, rows),
    purchase: cand.purchase.slice(0, rows),
    pClick: cand.pClick.slice(0, rows),
    pPurchase: cand.pPurchase.slice(0, rows),
    utility: cand.utility.slice(0, rows * UTILITY_COLS),
  }
}

/** Query template: bare 35 %, one text attribute 25 %, one image attribute 25 %, material × colour 15 %. */
function chooseQuery(w: Built, rng: Rng, u: number, c: number): number {
  const { layout } = w.setup
  const B = w.setup.config.brandsPerCategory
  const t = u * layout.width
  // Half the time a requested attribute follows the user's taste, otherwise any value.
  const pick = (n: number, from: number) =>
    rng.bernoulli(0.5)
      ? rng.categorical(Array.from({ length: n }, (_, j) => Math.exp(w.tastes.taste[t + from + j])))
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
  return w.queryKey.get(queryKeyOf(c, b, m, k, p))!
}

/**
 * The displayed list, [item, retrieval score] in display order. Retrieval ranks by a noisy
 * text-only relevance: category, requested brand/material words, a static per-item prior. It
 * cannot see colour, pattern, shape or the user.
 */
function retrieveList(w: Built, rng: Rng, prior: Float32Array, q: number, c: number, L: number): [number, number][] {
  const { attr } = w.items
  const N = w.items.count
  const queryAttr = w.queries.attr
  const qa = q * QUERY_ATTR_COLS
  const inCat = w.byCategory[c]
  const pool = new Set<number>()
  const want = Math.min(inCat.length, 3 * L)
  for (const j of rng.sample(inCat.length, want)) {
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
    return score + prior[i] + w.setup.config.retrievalNoise * rng.normal()
  }
  const scored: [number, number][] = [...pool].sort((a, b) => a - b).map((i) => [i, textScore(i, true)])
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  const nOff = Math.min(Math.round(w.setup.config.offCategoryShare * L), N - inCat.length)
  const list = scored.slice(0, L - nOff)
  const taken = new Set(list.map(([i]) => i))
  while (list.length < L && taken.size < N) {
    const i = rng.int(N)
    if (taken.has(i) || attr[i * ITEM_ATTR_COLS + ITEM_ATTR.category] === c) continue
    taken.add(i)
    list.push([i, textScore(i, false)])
  }
  list.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return list
}

/**
 * The user scans the displayed list: position bias, near-duplicate fatigue, then purchase.
 * Writes one candidate row per listed item from row `r`; returns the next free row.
 */
function logListChoices(
  w: Built,
  rng: Rng,
  list: [number, number][],
  u: number,
  q: number,
  cand: Candidates,
  r: number,
): number {
  const { config } = w.setup
  const famSeen = new Map<number, number>()
  for (let k = 0; k < list.length; k++, r++) {
    const [i, score] = list[k]
    cand.item[r] = i
    cand.retrieval[r] = score
    utilityParts(w.utility, config.choice, u, q, i, cand.utility, r * UTILITY_COLS)
    const v = cand.utility[r * 3] + cand.utility[r * 3 + 1] + cand.utility[r * 3 + 2]
    const t = truth(v, config.choice)
    cand.pClick[r] = t.pClick
    cand.pPurchase[r] = t.pPurchase
    const f = w.items.attr[i * ITEM_ATTR_COLS + ITEM_ATTR.family]
    const d = famSeen.get(f) ?? 0
    famSeen.set(f, d + 1)
    const pc = examination(k, config.choice) * sigmoid(v + config.choice.clickBias - config.choice.dupPenalty * d)
    const clicked = rng.bernoulli(pc)
    const bought = clicked && rng.bernoulli(sigmoid(v + config.choice.purchaseBias))
    cand.click[r] = clicked ? 1 : 0
    cand.purchase[r] = bought ? 1 : 0
  }
  return r
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
