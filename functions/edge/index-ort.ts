// The ort build: the kernel and onnxruntime-web, HEAD_BACKEND picking one (deploy it with
// `npx wrangler deploy functions/edge/index-ort.ts --var HEAD_BACKEND:ort`).
import { edgeWorker } from './app.ts'
import { isolateKernelHead } from './head/kernel-bundle.ts'
import { isolateOrtHead } from './head/ort-bundle.ts'

export const heads = { kernel: isolateKernelHead, ort: isolateOrtHead }

export default edgeWorker(heads)
