/**
 * What the re-rank core needs of the edge head, whichever backend runs it: the purpose-built WASM
 * SIMD kernel (./kernel-head.ts, the default) or onnxruntime-web (./ort-head.ts, the `ort` build).
 */
import type { HeadFeatures } from '../../shared/head-inputs.ts'

export type HeadBackendName = 'kernel' | 'ort'

export interface RerankHead {
  readonly backend: HeadBackendName
  /** Whether the backend is ready (the first request of an isolate pays for loading it). */
  readonly loaded: boolean
  /** One score per candidate, in the order given. Throws HeadUnavailable. */
  score(features: HeadFeatures): Promise<Float32Array>
}

/** The head failed to load or to run; the caller falls back (origin, then input order). */
export class HeadUnavailable extends Error {
  override name = 'HeadUnavailable'
}

/** A head that cannot be had (a backend this build does not carry): every call says why. */
export function missingHead(backend: HeadBackendName, reason: string): RerankHead {
  return {
    backend,
    loaded: false,
    score: async () => {
      throw new HeadUnavailable(reason)
    },
  }
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))
