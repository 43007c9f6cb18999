/**
 * The `kserve` backend: the teacher runs behind the KServe v2 / Open Inference Protocol
 * (`POST <INFER_URL>/v2/models/<name>/infer`), with binary tensors both ways as Triton's own
 * clients send them. Only the tensor call moves; feature assembly and batching stay here.
 */
import { BackendError, type InferenceBackend, type Tensors } from '../backend.ts'
import { decodeInferResponse, encodeInferRequest, HEADER_LENGTH, V2Error } from './protocol.ts'

export interface KServeBackendOptions {
  /** Base URL of the v2 server (e.g. Triton's HTTP port). */
  url: string
  /** Model name on that server. */
  model: string
  /** Bearer token for it, if it needs one (another origin does). */
  token?: string
  /** Per-call limit, ms. */
  timeoutMs?: number
}

export class KServeBackend implements InferenceBackend {
  readonly description: string
  readonly #endpoint: URL
  readonly #ready: URL

  constructor(private readonly opts: KServeBackendOptions) {
    const base = opts.url.endsWith('/') ? opts.url : `${opts.url}/`
    const model = `v2/models/${encodeURIComponent(opts.model)}`
    this.#endpoint = new URL(`${model}/infer`, base)
    this.#ready = new URL(`${model}/ready`, base)
    this.description = `kserve ${this.#endpoint.origin} model ${opts.model}`
  }

  /** Waits until the server says the model is ready (it may still be loading). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const ready = this.#ready
    const until = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < until) {
      try {
        const res = await fetch(ready, { headers: this.#auth() })
        if (res.ok) return
        last = `${res.status}`
      } catch (e) {
        last = e instanceof Error ? e.message : String(e)
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    throw new BackendError(`KServe model ${this.opts.model} at ${ready} is not ready after ${timeoutMs} ms (${last})`)
  }

  #auth(): Record<string, string> {
    return this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {}
  }

  async infer(inputs: Tensors): Promise<Tensors> {
    const { body, headerLength } = encodeInferRequest(
      Object.entries(inputs).map(([name, t]) => ({ name, shape: t.dims, data: t.data })),
      { binary: true },
    )
    let res: Response
    let bytes: Uint8Array
    try {
      res = await fetch(this.#endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', [HEADER_LENGTH]: String(headerLength), ...this.#auth() },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      })
      bytes = new Uint8Array(await res.arrayBuffer())
    } catch (e) {
      throw new BackendError(`KServe call to ${this.#endpoint} failed: ${e instanceof Error ? e.message : String(e)}`)
    }
    if (!res.ok)
      throw new BackendError(
        `KServe ${this.#endpoint} answered ${res.status}: ${new TextDecoder().decode(bytes.subarray(0, 300))}`,
      )
    const length = res.headers.get(HEADER_LENGTH)
    try {
      const outputs = decodeInferResponse(bytes, length === null ? undefined : Number(length))
      return Object.fromEntries(outputs.map((t) => [t.name, { dims: t.shape, data: t.data }]))
    } catch (e) {
      throw new BackendError(
        `KServe answer from ${this.#endpoint}: ${e instanceof V2Error ? `${e.field}: ${e.message}` : String(e)}`,
      )
    }
  }

  async close(): Promise<void> {}
}
