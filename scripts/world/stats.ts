import { ITEM_ATTR, ITEM_ATTR_COLS, QUERY_ATTR, QUERY_ATTR_COLS } from './choice.ts'
import { SESSION, SESSION_COLS, type World } from './world.ts'

export interface WorldStats {
  /** Clicks per displayed candidate. */
  ctr: number
  /** Purchases per click. */
  cvr: number
  clicksPerSession: number
  purchasesPerSession: number
  /** Sessions with at least one click. */
  sessionsWithClick: number
  /** Empirical CTR by 0-based position, for positions 0..19. */
  ctrByPosition: number[]
  /** Share of candidates that have a same-family item above them in the displayed list. */
  duplicateShare: number
  /** Share of candidates from another category than the query's (retrieval mistakes). */
  offCategoryShare: number
  meanListLength: number
  meanHistoryLength: number
}

export function worldStats(w: World): WorldStats {
  const c = w.candidates
  let clicks = 0
  let purchases = 0
  let sessionsWithClick = 0
  let dups = 0
  let offCat = 0
  const posClicks = new Float64Array(20)
  const posShown = new Float64Array(20)
  for (let s = 0; s < w.sessions.count; s++) {
    const start = w.sessions.offset[s]
    const end = w.sessions.offset[s + 1]
    const seen = new Set<number>()
    let any = false
    for (let r = start; r < end; r++) {
      const k = r - start
      clicks += c.click[r]
      purchases += c.purchase[r]
      any ||= c.click[r] === 1
      if (k < 20) (posShown[k]++, (posClicks[k] += c.click[r]))
      const a = c.item[r] * ITEM_ATTR_COLS
      const f = w.items.attr[a + ITEM_ATTR.family]
      if (seen.has(f)) dups++
      seen.add(f)
      if (isOffCategory(w, s, r)) offCat++
    }
    if (any) sessionsWithClick++
  }
  let hist = 0
  for (const u of w.users.meta) hist += u.historyLength
  return {
    ctr: clicks / c.count,
    cvr: purchases / Math.max(1, clicks),
    clicksPerSession: clicks / w.sessions.count,
    purchasesPerSession: purchases / w.sessions.count,
    sessionsWithClick: sessionsWithClick / w.sessions.count,
    ctrByPosition: Array.from(posClicks, (x, k) => x / Math.max(1, posShown[k])),
    duplicateShare: dups / c.count,
    offCategoryShare: offCat / c.count,
    meanListLength: c.count / w.sessions.count,
    meanHistoryLength: hist / w.users.count,
  }
}

function isOffCategory(w: World, s: number, r: number): boolean {
  const q = w.sessions.table[s * SESSION_COLS + SESSION.query]
  return (
    w.items.attr[w.candidates.item[r] * ITEM_ATTR_COLS + ITEM_ATTR.category] !==
    w.queries.attr[q * QUERY_ATTR_COLS + QUERY_ATTR.category]
  )
}
