import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { evaluate, splitRows } from '../../../scripts/evaluate/evaluate.ts'
import { BASELINES } from '../../../scripts/evaluate/rankers.ts'
import { estimateTastes } from '../../../scripts/evaluate/taste-estimate.ts'
import { ITEM_ATTR, ITEM_ATTR_COLS, expectedPurchases } from '../../../scripts/world/choice.ts'
import { writeNpy } from '../../../functions/release/npy.ts'
import { saveWorld } from '../../../scripts/world/store.ts'
import { SESSION, SESSION_COLS } from '../../../scripts/world/world.ts'
import { npmRun, smokeWorld, tempDir } from '../world/fixture.ts'

const world = smokeWorld(1)
const scores = Object.fromEntries(Object.entries(BASELINES).map(([name, ranker]) => [name, ranker(world)]))
const ev = evaluate(world, 'test', scores)
const r = ev.rankers

describe('evaluation of the reference rankers', () => {
  it('history_oracle (tastes from the history only) lands between the crowd and the oracle', () => {
    expect(r.history_oracle.oracle_gain_share).toBeGreaterThan(r.crowd_oracle.oracle_gain_share + 0.1)
    expect(r.history_oracle.oracle_gain_share).toBeLessThan(0.95)
    expect(r.history_oracle.history_oracle_gain_share).toBeCloseTo(1, 10)
    expect(r.retrieval.history_oracle_gain_share).toBe(0)
  })

  it('the history-based taste estimate tracks the hidden tastes, and a cold user keeps the prior', () => {
    const est = estimateTastes(world)
    const width = est.length / world.users.count
    const H = world.users.history.length / world.users.count
    let [dot, ee, tt] = [0, 0, 0]
    for (let u = 0; u < world.users.count; u++) {
      const row = (a: Float32Array) => a.subarray(u * width, (u + 1) * width - 1) // price sensitivity aside
      if (world.users.history[u * H] < 0) {
        expect(
          row(est).every((x) => x === 0),
          `cold user ${u}`,
        ).toBe(true)
        continue
      }
      row(est).forEach(
        (x, g) => ((dot += x * row(world.users.taste)[g]), (ee += x * x), (tt += row(world.users.taste)[g] ** 2)),
      )
    }
    expect(dot / Math.sqrt(ee * tt)).toBeGreaterThan(0.45)
  })

  it('anchors oracle_gain_share at retrieval (0) and the oracle (1)', () => {
    expect(r.oracle['ndcg@10_true']).toBeCloseTo(1, 10)
    expect(r.retrieval.oracle_gain_share).toBe(0)
    expect(r.oracle.oracle_gain_share).toBe(1)
    expect(r.random.oracle_gain_share).toBeLessThan(0)
    expect(r.retrieval['ndcg@10_true']).toBeLessThan(0.6)
  })

  it('complementarity: text-only and image-only truth each recover clearly less than the full oracle', () => {
    for (const name of ['text_oracle', 'image_oracle']) {
      expect(r[name].oracle_gain_share, name).toBeGreaterThan(0.3)
      expect(r[name].oracle_gain_share, name).toBeLessThan(0.7)
    }
  })

  it('the crowd oracle (no personal taste) beats retrieval, and only personalization closes the rest', () => {
    expect(r.crowd_oracle.oracle_gain_share).toBeGreaterThan(0.2)
    expect(r.crowd_oracle.oracle_gain_share).toBeLessThan(0.8)
    // It reads no user: the same (query, item) scores the same for every user who issued the query.
    const seen = new Map<string, number>()
    const crowd = scores.crowd_oracle
    let repeats = 0
    for (let s = 0; s < world.sessions.count; s++) {
      const query = world.sessions.table[s * SESSION_COLS + SESSION.query]
      for (let row = world.sessions.offset[s]; row < world.sessions.offset[s + 1]; row++) {
        const key = `${query}/${world.candidates.item[row]}`
        if (seen.has(key)) (repeats++, expect(crowd[row]).toBe(seen.get(key)))
        else seen.set(key, crowd[row])
      }
    }
    expect(repeats).toBeGreaterThan(100)
  })

  it('the list-aware oracle gets more expected purchases than the pointwise oracle', () => {
    expect(r.list_oracle.exp_purchases).toBeGreaterThan(r.oracle.exp_purchases)
    expect(r.oracle.exp_purchases).toBeGreaterThan(r.retrieval.exp_purchases)
  })

  it('the list-context effect is real: a de-duplicated list beats a redundant one for the same user and query', () => {
    // For each test session: the 10 best items by true utility (redundant: variants of one family
    // sit side by side) against the 10 best with at most one item per family.
    const { sessions } = splitRows(world, 'test')
    const c = world.candidates
    const familyOf = (row: number) => world.items.attr[c.item[row] * ITEM_ATTR_COLS + ITEM_ATTR.family]
    const utilityOf = (row: number) => c.utility[row * 3] + c.utility[row * 3 + 1] + c.utility[row * 3 + 2]
    let compared = 0
    let dedupWins = 0
    let redundantTotal = 0
    let dedupTotal = 0
    for (const s of sessions) {
      const rows = Array.from(
        { length: world.sessions.offset[s + 1] - world.sessions.offset[s] },
        (_, i) => world.sessions.offset[s] + i,
      )
      rows.sort((a, b) => utilityOf(b) - utilityOf(a))
      const redundant = rows.slice(0, 10)
      if (new Set(redundant.map(familyOf)).size === redundant.length) continue
      const seen = new Set<number>()
      const dedup = rows.filter((row) => !seen.has(familyOf(row)) && seen.add(familyOf(row))).slice(0, 10)
      const value = (list: number[]) => expectedPurchases(list.map(utilityOf), list.map(familyOf), world.config.choice)
      compared++
      redundantTotal += value(redundant)
      dedupTotal += value(dedup)
      if (value(dedup) > value(redundant)) dedupWins++
    }
    expect(compared).toBeGreaterThan(50)
    expect(dedupTotal).toBeGreaterThan(redundantTotal)
    expect(dedupWins / compared).toBeGreaterThan(0.7)
  })

  it('`npm run evaluate` prints the table, writes eval.json, and scores an external .npy', () => {
    const dir = tempDir('eval')
    saveWorld(world, dir)
    // A model's scores for the test rows only: here, retrieval's own scores.
    const { sessions, rows } = splitRows(world, 'test')
    const mine = new Float32Array(rows)
    let j = 0
    for (const s of sessions)
      for (let k = world.sessions.offset[s]; k < world.sessions.offset[s + 1]; k++)
        mine[j++] = world.candidates.retrieval[k]
    writeNpy(join(dir, 'mine.npy'), mine, [rows])
    const out = npmRun('evaluate', ['--world', dir, '--scores', `mine=${join(dir, 'mine.npy')}`])
    expect(out).toMatch(/SYNTHETIC/)
    expect(out).toMatch(/^oracle\s+1\.0000/m)
    const report = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'))
    expect(report.synthetic).toBe(true)
    expect(Object.keys(report.rankers)).toEqual([...Object.keys(BASELINES), 'mine'])
    expect(report.rankers.mine['ndcg@10_true']).toBeCloseTo(r.retrieval['ndcg@10_true'], 6)
    expect(report.rankers.oracle.oracle_gain_share).toBe(1)
  })

  it('rejects scores of the wrong length, naming the ranker', () => {
    expect(() => evaluate(world, 'test', { ...scores, bad: new Float32Array(7) })).toThrow(/scores "bad": 7 values/)
  })
})
