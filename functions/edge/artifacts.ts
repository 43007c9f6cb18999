/**
 * What the bundle carries: the release manifest, the edge head's ONNX bytes and the compiled ORT
 * wasm. The model import is a literal path (bundlers resolve imports statically); a test
 * (test/edge-bundle.test.ts) pins it to the manifest's `edge_head.file`.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm'
import manifestJson from '../../models/manifest.json'
import headModel from '../../models/onnx/edge_head.onnx'
import type { Manifest } from '../shared/manifest.ts'
import { RerankHead, type HeadArtifacts } from './rerank-head.ts'

export const HEAD_MODEL_NAME = 'edge_head'
export const manifest = manifestJson as Manifest

export function headArtifacts(): HeadArtifacts {
  const spec = manifest.models[HEAD_MODEL_NAME]
  if (!spec) throw new Error(`manifest ${manifest.version} has no ${HEAD_MODEL_NAME}`)
  return { spec, dim: manifest.embedding.dim, wasm: ortWasm, model: headModel }
}

let head: RerankHead | undefined

/** The isolate's one head: its ORT session is created on first use and kept for the isolate's life. */
export function isolateHead(): RerankHead {
  return (head ??= new RerankHead(headArtifacts))
}
