/**
 * Random head inputs for checks that need any valid request rather than a reference score: what
 * the kernel refuses (head.test.ts), its Node host (test/node/kernel/node-host.test.ts), and a fresh
 * training run's kernel against its ONNX head (test/node/train/train-smoke.test.ts). 1–200 candidates,
 * 0–50 history items, vectors and prices in the ranges the release's KV records hold, plus the
 * extremes (one candidate, no history, the most of both). The head's reference scores are
 * PyTorch's, on the requests models/export.py exports (head-requests.ts).
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import type { HeadFeatures } from '../../functions/shared/head-inputs.ts'

export function headCase(index: number, dim: number): HeadFeatures {
  const gen = xoroshiro128plus(1000 + index)
  const u = () => uniformFloat64(gen)
  // Unit-norm-ish vectors (the fused embeddings are unit vectors), prices log-uniform in 1…1000.
  const vector = () => Float32Array.from({ length: dim }, () => (u() - 0.5) * (4 / Math.sqrt(dim)))
  const record = () => ({ vector: vector(), price: Math.fround(Math.exp(u() * Math.log(1000))) })
  const extremes: [number, number][] = [
    [1, 0],
    [1, 50],
    [200, 0],
    [200, 50],
  ]
  const [l, h] = extremes[index] ?? [1 + Math.floor(u() * 200), Math.floor(u() * 51)]
  return { query: vector(), items: Array.from({ length: l }, record), history: Array.from({ length: h }, record) }
}
