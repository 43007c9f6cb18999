// The default build: the edge head on its WASM SIMD kernel, and no onnxruntime-web in the bundle.
import { edgeWorker } from './app.ts'
import { isolateKernelHead } from './head/kernel-bundle.ts'

export default edgeWorker({ kernel: isolateKernelHead })
