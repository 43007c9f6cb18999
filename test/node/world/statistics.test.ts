import { describe, expect, it } from 'vitest'
import {
  ITEM_ATTR,
  ITEM_ATTR_COLS,
  examination,
  listClickProbabilities,
  sigmoid,
} from '../../../scripts/world/choice.ts'
import { worldStats } from '../../../scripts/world/stats.ts'
import { smokeWorld } from './fixture.ts'

// The ranges docs/world.md documents for the smoke and default presets.
describe('world statistics stay inside their documented ranges', () => {
  const world = smokeWorld(1)
  const st = worldStats(world)

  it('CTR, CVR and clicks per session', () => {
    expect(st.ctr).toBeGreaterThan(0.03)
    expect(st.ctr).toBeLessThan(0.09)
    expect(st.cvr).toBeGreaterThan(0.25)
    expect(st.cvr).toBeLessThan(0.5)
    expect(st.sessionsWithClick).toBeGreaterThan(0.7)
    expect(st.sessionsWithClick).toBeLessThan(0.95)
  })

  it('the position-bias curve falls with position', () => {
    const c = st.ctrByPosition
    const band = (a: number, b: number) => c.slice(a, b).reduce((x, y) => x + y, 0) / (b - a)
    expect(c[0]).toBeGreaterThan(0.3)
    expect(c[0]).toBeLessThan(0.5)
    expect(c[0]).toBeGreaterThan(c[1])
    expect(band(1, 2)).toBeGreaterThan(band(2, 5))
    expect(band(2, 5)).toBeGreaterThan(band(5, 10))
    expect(band(5, 10)).toBeGreaterThan(band(10, 20))
  })

  it('logged clicks follow the documented choice model (empirical vs expected CTR)', () => {
    let expected = 0
    const w = world
    for (let s = 0; s < w.sessions.count; s++) {
      const start = w.sessions.offset[s]
      const end = w.sessions.offset[s + 1]
      const util: number[] = []
      const fam: number[] = []
      for (let r = start; r < end; r++) {
        util.push(w.candidates.utility[r * 3] + w.candidates.utility[r * 3 + 1] + w.candidates.utility[r * 3 + 2])
        fam.push(w.items.attr[w.candidates.item[r] * ITEM_ATTR_COLS + ITEM_ATTR.family])
      }
      expected += listClickProbabilities(util, fam, w.config.choice).reduce((a, b) => a + b, 0)
    }
    const clicks = w.candidates.click.reduce((a, b) => a + b, 0)
    // ~6k clicks: binomial noise is ~1.3 %; allow 5 %.
    expect(Math.abs(clicks / expected - 1)).toBeLessThan(0.05)
  })

  it('truth and labels are consistent: purchases ⊆ clicks, pPurchase ≤ pClick = σ(v + clickBias)', () => {
    const c = world.candidates
    const { clickBias } = world.config.choice
    for (let r = 0; r < c.count; r++) {
      if (c.purchase[r]) expect(c.click[r]).toBe(1)
      expect(c.pPurchase[r]).toBeLessThanOrEqual(c.pClick[r])
      if (r % 97 === 0) {
        const v = c.utility[r * 3] + c.utility[r * 3 + 1] + c.utility[r * 3 + 2]
        expect(c.pClick[r]).toBeCloseTo(sigmoid(v + clickBias), 5)
      }
    }
    expect(examination(0, world.config.choice)).toBe(1)
  })

  it('lists carry near-duplicates and retrieval mistakes, histories are bounded', () => {
    expect(st.duplicateShare).toBeGreaterThan(0.05)
    expect(st.offCategoryShare).toBeGreaterThan(0.05)
    expect(st.offCategoryShare).toBeLessThan(0.15)
    expect(st.meanHistoryLength).toBeGreaterThan(15)
    expect(st.meanHistoryLength).toBeLessThan(35)
    const H = world.config.historyMax
    let cold = 0
    for (let u = 0; u < world.users.count; u++) {
      const row = world.users.history.subarray(u * H, (u + 1) * H)
      const len = world.users.meta[u].historyLength
      if (len === 0) cold++
      // Padding only at the end.
      for (let h = 0; h < H; h++) expect(row[h] >= 0, `user ${u} slot ${h}`).toBe(h < len)
    }
    expect(cold / world.users.count).toBeGreaterThan(0.03)
    expect(cold / world.users.count).toBeLessThan(0.2)
  })

  it('splits follow session time: train, then valid, then test', () => {
    const split = Array.from({ length: world.sessions.count }, (_, s) => world.sessions.table[s * 4 + 2])
    for (let s = 1; s < split.length; s++) expect(split[s]).toBeGreaterThanOrEqual(split[s - 1])
    expect(split.filter((x) => x === 2).length).toBe(300)
  })
})
