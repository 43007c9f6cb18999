/**
 * The kernel backend as the bundle carries it: the compiled kernel and the release's weights blob
 * (wrangler.toml `rules`). The weights import is a literal path (bundlers resolve imports
 * statically); a test (test/node/shared/edge-bundle.test.ts) pins it to the manifest's
 * `edge_head.weights.file`.
 */
import weights from '../../../models/onnx/edge_head.weights.bin'
import { manifest } from '../artifacts.ts'
import { modelSpec } from '../../release/manifest.ts'
import { KernelHead, type KernelArtifacts } from './kernel-head.ts'
import kernel from './kernel/forward.wasm'

export function kernelArtifacts(): KernelArtifacts {
  return { spec: modelSpec(manifest, 'edge_head'), wasm: kernel, weights }
}

let head: KernelHead | undefined

/** The isolate's one kernel head: instantiated on first use and kept for the isolate's life. */
export function isolateKernelHead(): KernelHead {
  return (head ??= new KernelHead(kernelArtifacts))
}
