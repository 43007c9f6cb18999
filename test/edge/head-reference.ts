/**
 * onnxruntime-node's scores of the committed edge head on the random parity cases
 * (test/edge/head-cases.ts): vitest globalSetup, in Node, provided to the workerd tests.
 */
import { readFileSync } from 'node:fs'
import * as ort from 'onnxruntime-node'
import type { TestProject } from 'vitest/node'
import { assembleHeadInputs } from '../../functions/shared/head-inputs.ts'
import { modelSpec, type Manifest } from '../../functions/shared/manifest.ts'
import { HEAD_CASES, headCase } from './head-cases.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    headReference: number[][]
  }
}

export default async function setup(project: TestProject) {
  const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as Manifest
  const spec = modelSpec(manifest, 'edge_head')
  const session = await ort.InferenceSession.create(`models/${spec.file}`)
  const scores: number[][] = []
  for (let i = 0; i < HEAD_CASES; i++) {
    const inputs = assembleHeadInputs(spec, headCase(i, manifest.embedding.dim))
    const feeds = Object.fromEntries(
      Object.entries(inputs).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]),
    )
    const out = await session.run(feeds)
    scores.push(Array.from(out[spec.outputs[0].name].data as Float32Array))
  }
  await session.release()
  project.provide('headReference', scores)
}
