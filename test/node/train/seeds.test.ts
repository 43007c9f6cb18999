import { describe, expect, it } from 'vitest'
import type { RankerMetrics } from '../../../scripts/evaluate/evaluate.ts'
import { summarizeSeeds } from '../../../scripts/train/seeds.ts'

const metrics = (v: number): RankerMetrics => ({
  'ndcg@10': v,
  'ndcg@10_true': v,
  auc: v,
  gauc: v,
  mrr: v,
  exp_purchases: v,
  oracle_gain_share: v,
  oracle_gain_share_labels: v,
})

describe('summarizeSeeds', () => {
  it('folds NAME#SEED runs into mean, sample std and seeds; passes unseeded rankers through', () => {
    const out = summarizeSeeds({
      retrieval: metrics(0.4),
      'armmt#2': metrics(0.6),
      'armmt#1': metrics(0.5),
      'armmt#3': metrics(0.7),
    })
    expect(out.retrieval).toEqual(metrics(0.4))
    expect(out.armmt['ndcg@10']).toBeCloseTo(0.6, 12)
    expect(out.armmt.std!['ndcg@10']).toBeCloseTo(0.1, 12)
    expect(out.armmt.seeds).toEqual([1, 2, 3])
    expect(Object.keys(out).sort()).toEqual(['armmt', 'retrieval'])
  })
})
