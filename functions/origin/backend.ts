/**
 * Where the teacher's tensors are computed. The origin keeps feature assembly, batching and the
 * contract; a backend only runs named float32 tensors through the model: onnxruntime-node in
 * this process (CPU, or CUDA where its binaries are installed), or any KServe v2 server
 * (functions/origin/kserve/backend.ts) — NVIDIA Triton on a GPU in production.
 */
import * as ort from 'onnxruntime-node'
import type { InputTensor } from '../shared/model-inputs.ts'

export type Tensors = Record<string, InputTensor>

export interface InferenceBackend {
  /** What runs the model, for /healthz and logs (e.g. `onnx/cpu`, `kserve http://…`). */
  readonly description: string
  infer(inputs: Tensors): Promise<Tensors>
  close(): Promise<void>
}

/** The backend cannot start or cannot run; the message says what to do. */
export class BackendError extends Error {
  override name = 'BackendError'
}

export type ExecutionProvider = 'cpu' | 'cuda'

export const CUDA_HELP =
  "onnxruntime-node's CUDA binaries are not installed. Its install script downloads them, and this " +
  'project denies that step (package.json allowScripts) because it needs the internet. On a host with an ' +
  'NVIDIA GPU, CUDA 12 and cuDNN 9: `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`, ' +
  'then start again with EXECUTION_PROVIDER=cuda. Or keep the origin on CPU and run the teacher on Triton ' +
  '(INFER_BACKEND=kserve; docs/origin.md).'

export class OnnxBackend implements InferenceBackend {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly description: string,
  ) {}

  /** Loads the model. Asking for CUDA where it cannot run fails here, never falls back to CPU. */
  static async create(file: string, provider: ExecutionProvider = 'cpu'): Promise<OnnxBackend> {
    try {
      const session = await ort.InferenceSession.create(file, { executionProviders: [provider] })
      return new OnnxBackend(session, `onnx/${provider}`)
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e)
      if (provider === 'cuda') throw new BackendError(`EXECUTION_PROVIDER=cuda: ${why}. ${CUDA_HELP}`)
      throw new BackendError(`cannot load ${file}: ${why}`)
    }
  }

  async infer(inputs: Tensors): Promise<Tensors> {
    const feeds: Record<string, ort.Tensor> = {}
    for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, t.dims)
    let result: ort.InferenceSession.OnnxValueMapType
    try {
      result = await this.session.run(feeds)
    } catch (e) {
      throw new BackendError(`onnxruntime: ${e instanceof Error ? e.message : String(e)}`)
    }
    const out: Tensors = {}
    for (const [name, t] of Object.entries(result)) {
      if (!(t.data instanceof Float32Array)) throw new BackendError(`output ${name} is ${t.type}, expected float32`)
      out[name] = { dims: [...t.dims], data: t.data }
    }
    return out
  }

  close(): Promise<void> {
    return this.session.release()
  }
}
