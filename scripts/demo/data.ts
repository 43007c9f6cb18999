/**
 * `npm run demo:data`: what the demo storefront (public/) shows, from the committed release and the
 * default SYNTHETIC world → public/demo/data.json. Only what a storefront has: queries with the
 * candidate list its search engine retrieved (a test session's, in retrieval order with its scores),
 * a few users' recent histories, and each item's product-page facts (title, price, category,
 * colour, pattern, shape). No hidden truth: users are picked and labelled by what their own
 * histories show (the colour most of their recent items have).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { userHistory } from '../../functions/release/kv-entries.ts'
import { readRelease } from '../../functions/release/release.ts'
import { releaseWorld } from '../world/release-world.ts'
import { SESSION, SESSION_COLS, type ItemMeta } from '../world/world.ts'

export const DEMO_DATA = 'public/demo/data.json'
const QUERIES = 24
const LIST = 50
const COLOURS = ['blue', 'red', 'green', 'black', 'pink', 'yellow']

export interface DemoData {
  synthetic: true
  model: string
  queries: { text: string; candidates: { id: string; score: number }[] }[]
  users: { id: string; label: string; history: string[] }[]
  items: Record<string, Pick<ItemMeta, 'title' | 'price' | 'category' | 'colour' | 'pattern' | 'shape'>>
}

export function buildDemoData(modelsDir = 'models', worldDir = 'data/worlds/default'): DemoData {
  const release = readRelease(modelsDir)
  const world = releaseWorld(release, worldDir)
  const t = world.sessions.table
  const used = new Set<number>()
  const queries: DemoData['queries'] = []
  // One test session per query, lists of LIST candidates, queries in the order they first appear.
  for (let s = 0; s < world.sessions.count && queries.length < QUERIES; s++) {
    const row = t.subarray(s * SESSION_COLS, (s + 1) * SESSION_COLS)
    if (row[SESSION.split] !== 2 || row[SESSION.length] !== LIST || used.has(row[SESSION.query])) continue
    used.add(row[SESSION.query])
    const from = world.sessions.offset[s]
    queries.push({
      text: world.queries.meta[row[SESSION.query]].text,
      candidates: Array.from({ length: LIST }, (_, i) => ({
        id: world.items.meta[world.candidates.item[from + i]].id,
        score: Number(world.candidates.retrieval[from + i].toFixed(4)),
      })),
    })
  }
  // Per colour, the user whose recent items (≥ 20) have it most often.
  const itemIndex = new Map(world.items.meta.map((m, i) => [m.id, i]))
  const users: DemoData['users'] = []
  const histories = Array.from({ length: world.users.count }, (_, u) => userHistory(world, u))
  const picked = new Set<number>()
  for (const colour of COLOURS) {
    let best = { user: -1, share: 0, count: 0, n: 0 }
    for (let u = 0; u < world.users.count; u++) {
      const history = histories[u]
      if (history.length < 20 || picked.has(u)) continue
      const count = history.filter((id) => world.items.meta[itemIndex.get(id)!].colour === colour).length
      if (count / history.length > best.share)
        best = { user: u, share: count / history.length, count, n: history.length }
    }
    picked.add(best.user)
    users.push({
      id: world.users.meta[best.user].id,
      label: `${colour} things (${best.count} of ${best.n} recent items)`,
      history: histories[best.user],
    })
  }
  const items: DemoData['items'] = {}
  const ids = [...queries.flatMap((q) => q.candidates.map((c) => c.id)), ...users.flatMap((u) => u.history)]
  for (const id of ids) {
    const { title, price, category, colour, pattern, shape } = world.items.meta[itemIndex.get(id)!]
    items[id] = { title, price, category, colour, pattern, shape }
  }
  return { synthetic: true, model: release.manifest.version, queries, users, items }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const data = buildDemoData()
  mkdirSync(dirname(DEMO_DATA), { recursive: true })
  writeFileSync(DEMO_DATA, JSON.stringify(data) + '\n')
  console.log(
    `demo:data: wrote ${DEMO_DATA} (${data.queries.length} queries, ${data.users.length} users, ${Object.keys(data.items).length} items; SYNTHETIC)`,
  )
}
