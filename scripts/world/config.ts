/**
 * Presets and the parameters of the known choice model. Everything the generator does is
 * a function of (preset, seed); the parameters are written into the manifest so any
 * reader (TypeScript evaluation, Python training) can recompute the truth.
 */
export const GENERATOR_VERSION = '1.0.0'

export interface ChoiceParams {
  /** Utility penalty for an item outside the query's category. */
  offCategory: number
  /** Utility added (subtracted) per requested attribute the item has (lacks). */
  attrMatch: number
  /** Click intercept: p(click | examined) = σ(v + clickBias − dupPenalty·d). */
  clickBias: number
  /** Purchase intercept: p(purchase | click) = σ(v + purchaseBias). */
  purchaseBias: number
  /** Examination probability at 0-based position k: (k + 1)^−examDecay. */
  examDecay: number
  /** List-context effect: each near-duplicate (same family) shown above costs this much click utility. */
  dupPenalty: number
  /** Standard deviation of users' hidden tastes (utility units) per attribute value; price sensitivity ~ U(lo, hi). */
  taste: { material: number; colour: number; pattern: number; shape: number; tier: number; price: [number, number] }
}

export interface WorldConfig {
  preset: string
  categories: number
  brandsPerCategory: number
  items: number
  users: number
  sessions: number
  /** Candidate-list lengths and their weights. */
  listLengths: number[]
  listLengthWeights: number[]
  historyMax: number
  /** Share of users with no history at all (cold users). */
  coldUserShare: number
  textDim: number
  imageDim: number
  /** Embedding noise, as a share of the encoder output's norm. */
  textNoise: number
  imageNoise: number
  queryNoise: number
  /** Retrieval: noise on the text-only relevance the search engine ranks by. */
  retrievalNoise: number
  /** Retrieval: share of each list drawn from other categories (retrieval mistakes). */
  offCategoryShare: number
  splits: { train: number; valid: number; test: number }
  choice: ChoiceParams
}

const CHOICE: ChoiceParams = {
  offCategory: -3,
  attrMatch: 1.5,
  clickBias: -0.5,
  purchaseBias: -2,
  examDecay: 0.75,
  dupPenalty: 3,
  taste: { material: 1.0, colour: 0.9, pattern: 0.6, shape: 0.5, tier: 0.6, price: [0.3, 1.5] },
}

const COMMON = {
  historyMax: 50,
  coldUserShare: 0.1,
  textDim: 128,
  imageDim: 128,
  textNoise: 0.35,
  imageNoise: 0.35,
  queryNoise: 0.15,
  retrievalNoise: 0.6,
  offCategoryShare: 0.1,
  splits: { train: 0.8, valid: 0.1, test: 0.1 },
  choice: CHOICE,
}

export const PRESETS: Record<string, WorldConfig> = {
  smoke: {
    ...COMMON,
    preset: 'smoke',
    categories: 8,
    brandsPerCategory: 6,
    items: 2_000,
    users: 200,
    sessions: 3_000,
    listLengths: [20, 30, 50],
    listLengthWeights: [1, 1, 2],
  },
  default: {
    ...COMMON,
    preset: 'default',
    categories: 24,
    brandsPerCategory: 10,
    items: 24_000,
    users: 3_000,
    sessions: 120_000,
    listLengths: [20, 30, 50, 80, 100],
    listLengthWeights: [1, 1, 4, 1, 1],
  },
}

export function presetConfig(name: string): WorldConfig {
  const config = PRESETS[name]
  if (!config) throw new Error(`unknown preset "${name}" (expected one of: ${Object.keys(PRESETS).join(', ')})`)
  return config
}
