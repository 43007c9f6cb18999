import type { RankerMetrics } from '../evaluate/evaluate.ts'

export type SeededMetrics = RankerMetrics & { std?: RankerMetrics; seeds?: number[] }

/**
 * Folds per-seed runs named `NAME#SEED` into one entry per ranker: each metric is the mean over
 * seeds, `std` holds the sample standard deviations, `seeds` the seeds. Unseeded rankers pass
 * through unchanged.
 */
export function summarizeSeeds(runs: Record<string, RankerMetrics>): Record<string, SeededMetrics> {
  const groups = new Map<string, { seed: number; m: RankerMetrics }[]>()
  const out: Record<string, SeededMetrics> = {}
  for (const [name, m] of Object.entries(runs)) {
    const at = name.lastIndexOf('#')
    if (at < 0) {
      out[name] = m
      continue
    }
    const base = name.slice(0, at)
    if (!groups.has(base)) groups.set(base, [])
    groups.get(base)!.push({ seed: Number(name.slice(at + 1)), m })
  }
  for (const [name, members] of groups) {
    const keys = Object.keys(members[0].m) as (keyof RankerMetrics)[]
    const mean = {} as RankerMetrics
    const std = {} as RankerMetrics
    for (const k of keys) {
      const xs = members.map(({ m }) => m[k] ?? Number.NaN)
      const mu = xs.reduce((a, b) => a + b, 0) / xs.length
      mean[k] = mu
      std[k] = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (xs.length - 1)) : 0
    }
    out[name] = { ...mean, std, seeds: members.map(({ seed }) => seed).sort((a, b) => a - b) }
  }
  return out
}
