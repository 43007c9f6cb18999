/**
 * The edge head's parity requests, exported by the Python side with PyTorch's scores of them
 * (models/export.py `export_head_requests`; committed under models/parity/edge_head_requests, or
 * rewritten from the release by `python3 -m models.head_requests`). vitest globalSetup: read here,
 * in Node, and provided to the workerd tests, which score the same inputs on the configured head
 * backend (head.test.ts). Nothing here builds the head's tensors: the reference is torch's.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { readNpy } from '../../functions/release/npy.ts'
import type { HeadRequestCase } from '../workerd/head-requests.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    headRequests: HeadRequestCase[]
  }
}

/** Where a release (`models/`, or a training run's output) keeps the head's parity requests. */
export const HEAD_REQUESTS = 'parity/edge_head_requests'

/** Rows of an [n, dim] vector table with their prices [n]: the records the head reads. */
function records(vectors: Float32Array, shape: number[], prices: Float32Array) {
  const [n, dim] = shape
  if (prices.length !== n) throw new Error(`${n} vectors but ${prices.length} prices`)
  return Array.from({ length: n }, (_, i) => ({
    vector: Array.from(vectors.subarray(i * dim, (i + 1) * dim)),
    price: prices[i],
  }))
}

export function readHeadRequests(release: string): HeadRequestCase[] {
  const root = join(release, HEAD_REQUESTS)
  return readdirSync(root)
    .sort()
    .map((name) => {
      const npy = (file: string) => readNpy(join(root, name, `${file}.npy`))
      const items = npy('input.items')
      const history = npy('input.history')
      return {
        name,
        query: Array.from(npy('input.query').data as Float32Array),
        items: records(items.data as Float32Array, items.shape, npy('input.price').data as Float32Array),
        history: records(history.data as Float32Array, history.shape, npy('input.hist_price').data as Float32Array),
        torchScores: Array.from(npy('output.score').data as Float32Array),
      }
    })
}

export default function setup(project: TestProject) {
  project.provide('headRequests', readHeadRequests('models'))
}
