import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { edgeApp } from '../../functions/edge/app.ts'
import { manifest } from '../../functions/edge/artifacts.ts'
import { kernelArtifacts } from '../../functions/edge/head/kernel-bundle.ts'
import { KernelHead } from '../../functions/edge/head/kernel-head.ts'
import { HeadUnavailable } from '../../functions/edge/head/rerank-head.ts'
import type { HeadFeatures } from '../../functions/shared/head-inputs.ts'
import { backend, bindings, configuredHead, FIXTURES, seedFixtureKv } from './harness.ts'
import { headCase } from './head-cases.ts'
import { headFeatures } from './head-requests.ts'

// The configured head backend (this project's HEAD_BACKEND) inside workerd, against PyTorch's
// scores of the requests the Python side exported (head-reference.ts); then what the kernel refuses.
const dim = manifest.embedding.dim
const requests = inject('headRequests')

describe(`the edge head (${backend}) against PyTorch on the exported requests`, () => {
  it('the requests span one candidate to 200, and a cold user to the most history HISTORY_LIMIT allows (200)', () => {
    const sizes = requests.map((r) => [r.items.length, r.history.length])
    expect(sizes).toContainEqual([1, 0])
    expect(Math.max(...sizes.map(([candidates]) => candidates))).toBe(200)
    expect(Math.max(...sizes.map(([, history]) => history))).toBe(200)
  })

  for (const r of requests)
    it(`${r.name}: ${r.items.length} candidates, ${r.history.length} history items, within 1e-5 of torch`, async () => {
      const got = await configuredHead().score(headFeatures(r))
      expect(got.length).toBe(r.torchScores.length)
      let worst = 0
      for (let j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs(got[j] - r.torchScores[j]))
      expect(worst).toBeLessThanOrEqual(1e-5)
    })
})

/** The kernel over the release's artifacts with `change` applied to its manifest entry or blob. */
function kernelWith(change: { weights?: Uint8Array; architecture?: Record<string, unknown>; dropTensor?: string }) {
  const artifacts = kernelArtifacts()
  const weights = artifacts.spec.weights!
  return new KernelHead({
    ...artifacts,
    weights: change.weights ?? artifacts.weights,
    spec: {
      ...artifacts.spec,
      weights: {
        ...weights,
        architecture: { ...weights.architecture, ...change.architecture } as never,
        tensors: weights.tensors.filter((t) => t.name !== change.dropTensor),
      },
    },
  })
}

const sample = (): HeadFeatures => headCase(5, dim)

async function refusal(head: KernelHead, f: HeadFeatures = sample()): Promise<string> {
  const e = await head.score(f).then(
    () => new Error('scored'),
    (e: unknown) => e,
  )
  expect(e).toBeInstanceOf(HeadUnavailable)
  return (e as Error).message
}

describe('the kernel refuses what it cannot score', () => {
  it('weights of another architecture', async () => {
    expect(await refusal(kernelWith({ architecture: { name: 'edge_head/v2' } }))).toMatch(
      /architecture edge_head\/v2; the kernel implements edge_head\/v1/,
    )
  })

  it('weights of the same name but another width', async () => {
    expect(await refusal(kernelWith({ architecture: { dim: 32 } }))).toMatch(/tensor item\.weight is \[24,65\]/)
  })

  it('a layout that lacks a tensor', async () => {
    expect(await refusal(kernelWith({ dropTensor: 'block.ff.2.bias' }))).toMatch(/lack tensor block\.ff\.2\.bias/)
  })

  it('a truncated weights blob', async () => {
    const blob = new Uint8Array(kernelArtifacts().weights as ArrayBuffer)
    expect(await refusal(kernelWith({ weights: blob.slice(0, blob.length - 64) }))).toMatch(/weights blob is \d+ bytes/)
  })

  it('a NaN in a candidate vector', async () => {
    const f = sample()
    f.items[3].vector[7] = NaN
    expect(await refusal(new KernelHead(kernelArtifacts), f)).toMatch(/a candidate vector has a non-finite value/)
  })

  it('an infinite value in a history vector', async () => {
    const f = sample()
    f.history[0].vector[0] = Infinity
    expect(await refusal(new KernelHead(kernelArtifacts), f)).toMatch(/a history vector has a non-finite value/)
  })

  it('a price that is not positive', async () => {
    const f = sample()
    f.items[0].price = 0
    expect(await refusal(new KernelHead(kernelArtifacts), f)).toMatch(/candidate 0's price 0 is not positive/)
  })

  it('more candidates than the API allows', async () => {
    const f = sample()
    f.items = Array.from({ length: 201 }, () => f.items[0])
    expect(await refusal(new KernelHead(kernelArtifacts), f)).toMatch(/1…200 candidates, not 201/)
  })
})

describe('a worker whose head cannot load', () => {
  beforeAll(seedFixtureKv)

  it('answers 200 in the input order, degraded head_unavailable', async () => {
    const broken = kernelWith({ architecture: { name: 'something else' } })
    const worker = edgeApp({ kernel: () => broken })
    const ctx = createExecutionContext()
    const request = FIXTURES.anonymous.request
    const res = await worker.fetch(
      new Request('https://edge.test/v1/rerank', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
      }),
      { ...bindings, HEAD_BACKEND: 'kernel', CACHE_TTL_S: '0' },
      ctx,
    )
    await waitOnExecutionContext(ctx)
    const body: any = await res.json()
    expect(res.status).toBe(200)
    expect(body).toMatchObject({ path: 'passthrough', degraded: ['head_unavailable', 'origin_not_configured'] })
  })

  it('the default build asked for the ort backend: degraded, saying the build lacks it', async () => {
    const worker = edgeApp({ kernel: () => new KernelHead(kernelArtifacts) })
    const ctx = createExecutionContext()
    const res = await worker.fetch(
      new Request('https://edge.test/v1/rerank', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(FIXTURES.anonymous.request),
      }),
      { ...bindings, HEAD_BACKEND: 'ort', CACHE_TTL_S: '0' },
      ctx,
    )
    await waitOnExecutionContext(ctx)
    const body: any = await res.json()
    expect(res.status).toBe(200)
    expect(body.degraded).toContain('head_unavailable')
  })
})
