/**
 * What the bundle carries: the release manifest, the edge head's ONNX bytes and the compiled ORT
 * wasm. The model import is a literal path (bundlers resolve imports statically); a test
 * (test/edge-bundle.test.ts) pins it to the manifest's `edge_head.file`.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm'
import manifestJson from '../../models/manifest.json'
import headModel from '../../models/onnx/edge_head.onnx'
import { modelSpec, type Manifest } from '../shared/manifest.ts'
import { RerankHead, type HeadArtifacts } from './rerank-head.ts'

export const manifest = manifestJson as Manifest

export function headArtifacts(): HeadArtifacts {
  return { spec: modelSpec(manifest, 'edge_head'), wasm: ortWasm, model: headModel }
}

let head: RerankHead | undefined

/** The isolate's one head: its ORT session is created on first use and kept for the isolate's life. */
export function isolateHead(): RerankHead {
  return (head ??= new RerankHead(headArtifacts))
}
