/** Order statistics for benchmark samples (nearest-rank percentiles). */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export const median = (samples: number[]) => percentile(samples, 50)
