import { describe, expect, it } from 'vitest'
import { auc, labelGain, ndcgAt, rankRows, reciprocalRank } from '../../../scripts/evaluate/metrics.ts'

describe('ranking metrics', () => {
  it('AUC: perfect, reversed, ties, one class', () => {
    expect(auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toBe(1)
    expect(auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).toBe(0)
    expect(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5)
    // 3 positives, 2 negatives; pairs won: (0.8>0.3, 0.8>0.6), (0.7>0.3, 0.7>0.6), (0.4>0.3) = 5 of 6.
    expect(auc([0.8, 0.7, 0.4, 0.3, 0.6], [1, 1, 1, 0, 0])).toBeCloseTo(5 / 6, 12)
    expect(auc([0.1, 0.2], [1, 1])).toBeNull()
  })

  it('NDCG@k against a hand computation', () => {
    // ranked gains [0, 3, 1]: DCG = 3/log2(3) + 1/log2(4); ideal [3, 1, 0]: 3 + 1/log2(3)
    const expected = (3 / Math.log2(3) + 1 / 2) / (3 + 1 / Math.log2(3))
    expect(ndcgAt(10, [0, 3, 1])).toBeCloseTo(expected, 12)
    expect(ndcgAt(1, [0, 3, 1])).toBe(0)
    expect(ndcgAt(10, [3, 1, 0])).toBe(1)
    expect(ndcgAt(10, [0, 0])).toBeNull()
  })

  it('graded gains, reciprocal rank and tie-stable ordering', () => {
    expect([labelGain(0, 0), labelGain(1, 0), labelGain(1, 1)]).toEqual([0, 1, 3])
    expect(reciprocalRank([0, 0, 1, 1])).toBeCloseTo(1 / 3)
    expect(reciprocalRank([0, 0])).toBeNull()
    expect(Array.from(rankRows([5, 1, 3, 3, 9], 1, 5))).toEqual([4, 2, 3, 1])
  })
})
