/**
 * The distilled re-rank head run by onnxruntime-web (WASM SIMD, one thread) inside the isolate:
 * the `ort` build's backend (the default build runs ./kernel-head.ts and carries no ORT at all).
 *
 * Workers forbid compiling Wasm from bytes at run time, and ORT has no option that takes a
 * compiled `WebAssembly.Module`; so the bundle imports the ORT wasm as a compiled module and,
 * while ORT initialises, `WebAssembly.instantiate` is pointed at that module. The session is
 * created lazily, once per isolate, and shared by every request the isolate serves.
 */
import * as ort from 'onnxruntime-web/wasm'
import { assembleHeadInputs, type HeadFeatures } from '../../shared/head-inputs.ts'
import type { ModelSpec } from '../../release/manifest.ts'
import { errorText, HeadUnavailable, type RerankHead } from './rerank-head.ts'

export interface OrtArtifacts {
  /** The head's manifest entry: its tensors' names, shapes and widths. */
  spec: ModelSpec
  /** The compiled ORT wasm (`onnxruntime-web/ort-wasm-simd-threaded.wasm`). */
  wasm: WebAssembly.Module
  /** The ONNX model's bytes. */
  model: ArrayBuffer | Uint8Array
}

/** A stand-in for ORT's wasm bytes: never compiled, only recognised and swapped for the module. */
const PLACEHOLDER = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])

/** Creates the session, pointing ORT's one-time wasm instantiation at the compiled module. */
async function createSession(wasm: WebAssembly.Module, model: Uint8Array): Promise<ort.InferenceSession> {
  ort.env.wasm.numThreads = 1
  ort.env.wasm.proxy = false
  ort.env.wasm.wasmBinary = PLACEHOLDER
  const instantiate = WebAssembly.instantiate
  // ORT gives emscripten the placeholder bytes; emscripten calls instantiate(bytes, imports).
  WebAssembly.instantiate = (async (source: unknown, imports?: WebAssembly.Imports) =>
    source instanceof WebAssembly.Module
      ? instantiate(source, imports)
      : { module: wasm, instance: await instantiate(wasm, imports) }) as typeof WebAssembly.instantiate
  try {
    // Graph optimizations buy nothing measurable on a head this small, and skipping them shortens
    // the session creation a cold isolate pays for (bench:edge's cold start of the ort build).
    return await ort.InferenceSession.create(model, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'disabled',
    })
  } finally {
    WebAssembly.instantiate = instantiate
  }
}

export class OrtHead implements RerankHead {
  readonly backend = 'ort' as const
  #session?: Promise<{ session: ort.InferenceSession; output: string; artifacts: OrtArtifacts }>

  /** `artifacts` may be a thunk: a missing or malformed model then surfaces as HeadUnavailable
   *  on first use (and the request degrades) instead of failing whoever builds the head. */
  constructor(private readonly artifacts: OrtArtifacts | (() => OrtArtifacts)) {}

  /** Whether the session exists already (the first request of an isolate pays for it). */
  get loaded(): boolean {
    return this.#session !== undefined
  }

  #load() {
    this.#session ??= (async () => {
      const artifacts = typeof this.artifacts === 'function' ? this.artifacts() : this.artifacts
      const output = artifacts.spec.outputs[0]?.name
      if (!output) throw new Error('the manifest lists no output for the edge head')
      const model = artifacts.model instanceof Uint8Array ? artifacts.model : new Uint8Array(artifacts.model)
      return { session: await createSession(artifacts.wasm, model), output, artifacts }
    })()
    // A failed load is not kept: the next request tries again.
    this.#session.catch(() => (this.#session = undefined))
    return this.#session
  }

  /** One score per candidate, in the order given. Throws HeadUnavailable. */
  async score(features: HeadFeatures): Promise<Float32Array> {
    let loaded
    try {
      loaded = await this.#load()
    } catch (e) {
      throw new HeadUnavailable(`edge head failed to load: ${errorText(e)}`)
    }
    const { session, output, artifacts } = loaded
    try {
      const inputs = assembleHeadInputs(artifacts.spec, features)
      const feeds: Record<string, ort.Tensor> = {}
      for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, t.dims)
      const result = await session.run(feeds)
      const out = result[output]?.data
      if (!(out instanceof Float32Array) || out.length !== features.items.length)
        throw new Error(`output ${output} has ${out?.length ?? 0} values for ${features.items.length} candidates`)
      const scores = Float32Array.from(out)
      for (const t of Object.values(result)) t.dispose()
      return scores
    } catch (e) {
      throw new HeadUnavailable(`edge head failed to run: ${errorText(e)}`)
    }
  }
}
