/**
 * The ORT backend as the `ort` build carries it: the compiled onnxruntime-web wasm and the head's
 * ONNX model (wrangler.toml `rules`). Only functions/edge/index-ort.ts imports this, so the default
 * bundle has no ORT in it. The model import is a literal path; a test
 * (test/node/shared/edge-bundle.test.ts) pins it to the manifest's `edge_head.file`.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm'
import headModel from '../../../models/onnx/edge_head.onnx'
import { manifest } from '../artifacts.ts'
import { modelSpec } from '../../release/manifest.ts'
import { OrtHead, type OrtArtifacts } from './ort-head.ts'

export function ortArtifacts(): OrtArtifacts {
  return { spec: modelSpec(manifest, 'edge_head'), wasm: ortWasm, model: headModel }
}

let head: OrtHead | undefined

/** The isolate's one ORT head: its session is created on first use and kept for the isolate's life. */
export function isolateOrtHead(): OrtHead {
  return (head ??= new OrtHead(ortArtifacts))
}
