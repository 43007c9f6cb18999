import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { WorldConfig } from './config.ts'
import { GENERATOR_VERSION } from './config.ts'
import { ITEM_ATTR, ITEM_ATTR_COLS, QUERY_ATTR, QUERY_ATTR_COLS, categoryPriceZ, tasteLayout } from './choice.ts'
import { decodeNpy, dtypeOf, encodeNpy, type Dtype, type TypedArray } from '../../functions/release/npy.ts'
import { COLOUR_WORDS, MATERIAL_WORDS, PATTERN_WORDS, SHAPE_WORDS } from '../../functions/text-encoder/vocab.ts'
import { SESSION, SESSION_COLS, UTILITY_COLS, type World } from './world.ts'

export interface FileEntry {
  file: string
  dtype?: Dtype
  shape?: number[]
  rows?: number
  sha256: string
  description: string
}

export interface WorldManifest {
  kind: 'edge-rerank synthetic world'
  synthetic: true
  generator_version: string
  preset: string
  seed: number
  counts: {
    items: number
    families: number
    brands: number
    categories: number
    users: number
    queries: number
    sessions: number
    candidates: number
    splits: Record<string, number>
  }
  dims: { text: number; image: number; history: number }
  columns: {
    item_attr: Record<string, number>
    query_attr: Record<string, number>
    session: Record<string, number>
    utility: string[]
    user_taste: Record<string, [number, number]>
  }
  config: WorldConfig
  files: Record<string, FileEntry>
  content_hash: string
}

type ArrayKey = keyof typeof ARRAYS

/** Every array file, its description, and how to get it from (and put it back into) a World. */
const ARRAYS = {
  item_attr: {
    file: 'item_attr.npy',
    doc: 'int32 [items, 7]: category, brand, material, colour, pattern, shape, family (truth; models must not read it)',
  },
  item_price: { file: 'item_price.npy', doc: 'float32 [items]: price (visible to models)' },
  item_text_emb: {
    file: 'item_text_emb.npy',
    doc: 'float32 [items, text_dim]: unit-norm text-encoder output of the title (+ noise)',
  },
  item_image_emb: {
    file: 'item_image_emb.npy',
    doc: 'float32 [items, image_dim]: unit-norm image-encoder output of the photo (+ noise)',
  },
  brand_tier: { file: 'brand_tier.npy', doc: 'float32 [brands]: hidden brand premium level (truth)' },
  user_history: {
    file: 'user_history.npy',
    doc: 'int32 [users, history]: recent item indices, newest first, -1 = padding',
  },
  user_taste: {
    file: 'user_taste.npy',
    doc: 'float32 [users, taste_width]: hidden tastes (truth; see columns.user_taste)',
  },
  query_attr: {
    file: 'query_attr.npy',
    doc: 'int32 [queries, 5]: category, brand, material, colour, pattern; -1 = not in the query (truth)',
  },
  query_emb: {
    file: 'query_emb.npy',
    doc: 'float32 [queries, text_dim]: unit-norm text-encoder output of the query string (+ noise)',
  },
  session: {
    file: 'session.npy',
    doc: 'int32 [sessions, 4]: user, query, split (0 train, 1 valid, 2 test), list length; rows in time order',
  },
  session_offset: {
    file: 'session_offset.npy',
    doc: 'int32 [sessions + 1]: candidate rows of session s are [offset[s], offset[s+1])',
  },
  cand_item: {
    file: 'cand_item.npy',
    doc: 'int32 [candidates]: item index, in displayed (retrieval) order within the session',
  },
  cand_retrieval: {
    file: 'cand_retrieval.npy',
    doc: 'float32 [candidates]: retrieval score (descending within a session)',
  },
  cand_click: {
    file: 'cand_click.npy',
    doc: 'uint8 [candidates]: logged click (position bias and list effect included)',
  },
  cand_purchase: { file: 'cand_purchase.npy', doc: 'uint8 [candidates]: logged purchase (subset of clicks)' },
  cand_p_click: {
    file: 'cand_p_click.npy',
    doc: 'float32 [candidates]: true click probability, no position bias, no list effect',
  },
  cand_p_purchase: {
    file: 'cand_p_purchase.npy',
    doc: 'float32 [candidates]: true purchase probability, no position bias, no list effect',
  },
  cand_utility: {
    file: 'cand_utility.npy',
    doc: 'float32 [candidates, 3]: true utility parts: shared, text-only, image-only',
  },
} as const

function arraysOf(w: World): Record<ArrayKey, [TypedArray, number[]]> {
  const { config: cfg } = w
  return {
    item_attr: [w.items.attr, [w.items.count, ITEM_ATTR_COLS]],
    item_price: [w.items.price, [w.items.count]],
    item_text_emb: [w.items.textEmb, [w.items.count, cfg.textDim]],
    item_image_emb: [w.items.imageEmb, [w.items.count, cfg.imageDim]],
    brand_tier: [w.brandTier, [w.brandTier.length]],
    user_history: [w.users.history, [w.users.count, cfg.historyMax]],
    user_taste: [w.users.taste, [w.users.count, w.users.taste.length / Math.max(1, w.users.count)]],
    query_attr: [w.queries.attr, [w.queries.count, QUERY_ATTR_COLS]],
    query_emb: [w.queries.emb, [w.queries.count, cfg.textDim]],
    session: [w.sessions.table, [w.sessions.count, SESSION_COLS]],
    session_offset: [w.sessions.offset, [w.sessions.count + 1]],
    cand_item: [w.candidates.item, [w.candidates.count]],
    cand_retrieval: [w.candidates.retrieval, [w.candidates.count]],
    cand_click: [w.candidates.click, [w.candidates.count]],
    cand_purchase: [w.candidates.purchase, [w.candidates.count]],
    cand_p_click: [w.candidates.pClick, [w.candidates.count]],
    cand_p_purchase: [w.candidates.pPurchase, [w.candidates.count]],
    cand_utility: [w.candidates.utility, [w.candidates.count, UTILITY_COLS]],
  }
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'

/** Writes the world to `dir`. Output depends only on the world: same seed → same bytes. */
export function saveWorld(world: World, dir: string): WorldManifest {
  mkdirSync(dir, { recursive: true })
  const files: Record<string, FileEntry> = {}
  for (const [key, [data, shape]] of Object.entries(arraysOf(world)) as [ArrayKey, [TypedArray, number[]]][]) {
    const buf = encodeNpy(data, shape)
    writeFileSync(join(dir, ARRAYS[key].file), buf)
    files[key] = {
      file: ARRAYS[key].file,
      dtype: dtypeOf(data),
      shape,
      sha256: sha256(buf),
      description: ARRAYS[key].doc,
    }
  }
  const texts: [string, string, object[], string][] = [
    [
      'items',
      'items.jsonl',
      world.items.meta,
      'one JSON object per item (row i = item index i): id, family, title, category, brand, material, colour, pattern, shape, price',
    ],
    [
      'queries',
      'queries.jsonl',
      world.queries.meta,
      'one JSON object per query: id, text, category and requested attributes',
    ],
    ['users', 'users.jsonl', world.users.meta, 'one JSON object per user: id, historyLength'],
  ]
  for (const [key, file, rows, doc] of texts) {
    const text = jsonl(rows)
    writeFileSync(join(dir, file), text)
    files[key] = { file, rows: rows.length, sha256: sha256(text), description: doc }
  }
  const layout = tasteLayout(MATERIAL_WORDS.length, COLOUR_WORDS.length, PATTERN_WORDS.length, SHAPE_WORDS.length)
  const splitCounts = { train: 0, valid: 0, test: 0 }
  for (let s = 0; s < world.sessions.count; s++) {
    const split = world.sessions.table[s * SESSION_COLS + SESSION.split]
    splitCounts[(['train', 'valid', 'test'] as const)[split]]++
  }
  const families = new Set<number>()
  for (let i = 0; i < world.items.count; i++) families.add(world.items.attr[i * ITEM_ATTR_COLS + ITEM_ATTR.family])
  const manifest: WorldManifest = {
    kind: 'edge-rerank synthetic world',
    synthetic: true,
    generator_version: GENERATOR_VERSION,
    preset: world.config.preset,
    seed: world.seed,
    counts: {
      items: world.items.count,
      families: families.size,
      brands: world.brandTier.length,
      categories: world.config.categories,
      users: world.users.count,
      queries: world.queries.count,
      sessions: world.sessions.count,
      candidates: world.candidates.count,
      splits: splitCounts,
    },
    dims: { text: world.config.textDim, image: world.config.imageDim, history: world.config.historyMax },
    columns: {
      item_attr: { ...ITEM_ATTR },
      query_attr: { ...QUERY_ATTR },
      session: { ...SESSION },
      utility: ['shared', 'text', 'image'],
      user_taste: {
        material: [layout.material, layout.colour],
        colour: [layout.colour, layout.pattern],
        pattern: [layout.pattern, layout.shape],
        shape: [layout.shape, layout.tier],
        tier: [layout.tier, layout.tier + 1],
        price_sensitivity: [layout.price, layout.price + 1],
      },
    },
    config: world.config,
    files,
    content_hash: sha256(
      Object.keys(files)
        .sort()
        .map((k) => `${files[k].file}:${files[k].sha256}`)
        .join('\n'),
    ),
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  return manifest
}

/** A generated world's manifest, `<dir>/manifest.json` (not a release's: functions/release/release.ts `readReleaseManifest`). */
export function readWorldManifest(dir: string): WorldManifest {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as WorldManifest
  if (manifest.kind !== 'edge-rerank synthetic world') throw new Error(`${dir}/manifest.json is not a world manifest`)
  return manifest
}

/** Reads a world back, checking each array's shape and dtype against the manifest. */
export function loadWorld(dir: string, opts: { verify?: boolean } = {}): World {
  const manifest = readWorldManifest(dir)
  const arr = <T extends TypedArray>(key: ArrayKey): T => {
    const entry = manifest.files[key]
    const buf = readFileSync(join(dir, entry.file))
    if (opts.verify && sha256(buf) !== entry.sha256)
      throw new Error(`${entry.file}: sha256 does not match the manifest`)
    const a = decodeNpy(buf)
    if (a.dtype !== entry.dtype || a.shape.join() !== entry.shape!.join())
      throw new Error(`${entry.file}: ${a.dtype} [${a.shape}] but the manifest says ${entry.dtype} [${entry.shape}]`)
    return a.data as T
  }
  const lines = (key: string) =>
    readFileSync(join(dir, manifest.files[key].file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  const c = manifest.counts
  const itemAttr = arr<Int32Array>('item_attr')
  const price = arr<Float32Array>('item_price')
  const priceZ = categoryPriceZ(itemAttr, price)
  return {
    config: manifest.config,
    seed: manifest.seed,
    items: {
      count: c.items,
      attr: itemAttr,
      price,
      priceZ,
      textEmb: arr('item_text_emb'),
      imageEmb: arr('item_image_emb'),
      meta: lines('items'),
    },
    brandTier: arr('brand_tier'),
    users: { count: c.users, history: arr('user_history'), taste: arr('user_taste'), meta: lines('users') },
    queries: { count: c.queries, attr: arr('query_attr'), emb: arr('query_emb'), meta: lines('queries') },
    sessions: { count: c.sessions, table: arr('session'), offset: arr('session_offset') },
    candidates: {
      count: c.candidates,
      item: arr('cand_item'),
      retrieval: arr('cand_retrieval'),
      click: arr('cand_click'),
      purchase: arr('cand_purchase'),
      pClick: arr('cand_p_click'),
      pPurchase: arr('cand_p_purchase'),
      utility: arr('cand_utility'),
    },
  }
}

/**
 * What a model may read of the world's catalog, and nothing else (no truth, no sessions): item ids,
 * their text and image features and prices, and the queries' texts and vectors. The origin holds it.
 */
export function loadCatalog(dir: string): {
  manifest: WorldManifest
  arrays: {
    ids: string[]
    text: Float32Array
    image: Float32Array
    price: Float32Array
    queries: { texts: string[]; vectors: Float32Array }
  }
} {
  const manifest = readWorldManifest(dir)
  const arr = (key: ArrayKey) => {
    const entry = manifest.files[key]
    const a = decodeNpy(readFileSync(join(dir, entry.file)))
    if (a.dtype !== 'float32' || a.shape.join() !== entry.shape!.join())
      throw new Error(`${entry.file}: ${a.dtype} [${a.shape}] but the manifest says ${entry.dtype} [${entry.shape}]`)
    return a.data as Float32Array
  }
  const field = (key: string, name: 'id' | 'text') =>
    readFileSync(join(dir, manifest.files[key].file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as Record<string, string>)[name])
  return {
    manifest,
    arrays: {
      ids: field('items', 'id'),
      text: arr('item_text_emb'),
      image: arr('item_image_emb'),
      price: arr('item_price'),
      queries: { texts: field('queries', 'text'), vectors: arr('query_emb') },
    },
  }
}
