/**
 * The WASM SIMD peak as the benchmark measures it: the kernel module's `simdPeak` loop (8
 * independent f32x4 multiply-adds, 64 FLOPs a round), GFLOP/s per block of 10 calls. The probe
 * runs it inside workerd, bench:edge in Node, so the two figures come from one loop.
 */
export function simdPeakRates(
  kernel: { simdPeak(iterations: number, seed: number): number },
  blocks: number,
  iterations = 200_000,
): number[] {
  kernel.simdPeak(iterations, 0.5) // warm-up: the optimizing tier
  const rates: number[] = []
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now()
    for (let i = 0; i < 10; i++) kernel.simdPeak(iterations, 0.5 + i)
    rates.push((10 * iterations * 64) / ((performance.now() - t0) * 1e6))
  }
  return rates
}
