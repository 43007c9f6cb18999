import { describe, expect, it } from 'vitest'
import { ratioInterval } from '../../../scripts/simulate/simulate.ts'

describe("the simulator's purchases-per-session interval (users as the unit)", () => {
  it('is a point when every user buys at the same rate', () => {
    const [lo, hi] = ratioInterval([
      { sessions: 2, purchases: 1 },
      { sessions: 4, purchases: 2 },
      { sessions: 6, purchases: 3 },
    ])
    expect([lo, hi].map((x) => x.toFixed(6))).toEqual(['0.500000', '0.500000'])
  })

  it('widens with how much users differ, around the pooled rate', () => {
    const [lo, hi] = ratioInterval([
      { sessions: 2, purchases: 0 },
      { sessions: 2, purchases: 2 },
    ])
    // r = 0.5; residuals ±1, variance 2, se = sqrt(2 / 2) / 2 = 0.5.
    expect([lo, hi]).toEqual([0.5 - 1.96 * 0.5, 0.5 + 1.96 * 0.5])
  })
})
