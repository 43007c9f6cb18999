/**
 * The canonical form of a re-rank request: what decides its answer, and nothing else. Its hash
 * (with the model version) is the answer cache's key.
 *
 * - The query is normalized (the schema does it, as KV keys need it).
 * - Candidates are sorted by id: the models read no position (and no retrieval score), so their
 *   order and scores do not change a model's answer. The origin is sent exactly this form, so
 *   whatever it reads, one key means one answer. Answers that do depend on them (passthrough, or
 *   any degraded answer) are never cached.
 * - The user id enters only as its keyed hash, resolved once per request; the history in its order
 *   (newest first matters).
 */
import { sha256Hex } from './digest.ts'
import type { HistorySource, RerankRequest } from './rerank-api.ts'

/** What the canonical form reads: the request, its resolved history source, the keyed user. */
export interface CanonicalParts {
  request: RerankRequest
  history: HistorySource
  /** The keyed user hash (kv-keys.ts `userHash`), when the request names a proven user. */
  user?: { hash: string }
}

function canonicalRequest({ request, history, user }: CanonicalParts): string {
  const canonical = {
    q: request.query, // normalized by the schema
    c: request.candidates.map((c) => c.id).sort(),
    h: history && 'given' in history ? history.given : null,
    // Without the secret no history is read: such answers are degraded, and never cached.
    u: history && 'userId' in history ? (user?.hash ?? 'unkeyed') : null,
    k: request.k ?? null,
    m: request.mode,
  }
  return JSON.stringify(canonical)
}

export async function requestHash(parts: CanonicalParts, modelVersion: string): Promise<string> {
  return sha256Hex(`${modelVersion}\n${canonicalRequest(parts)}`)
}
