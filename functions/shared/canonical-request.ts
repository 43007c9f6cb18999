/**
 * The canonical form of a re-rank request: what decides its answer, and nothing else. Its hash
 * (with the model version) is the answer cache's key.
 *
 * - The query is normalized (the schema does it, as KV keys need it).
 * - Candidates are sorted by id: the models read no position (and no retrieval score), so their
 *   order and scores do not change a model's answer. The origin is sent exactly this form, so
 *   whatever it reads, one key means one answer. Answers that do depend on them (passthrough, or
 *   any degraded answer) are never cached.
 * - The user id enters only as its keyed hash, computed once per request by the caller; the history in its order (newest first matters).
 */
import { sha256Hex } from './kv-keys.ts'
import { historySource, type RerankRequest } from './rerank-api.ts'

function canonicalRequest(req: RerankRequest, historyLimit: number, userHash?: string): string {
  const history = historySource(req, historyLimit)
  const canonical = {
    q: req.query, // normalized by the schema
    c: req.candidates.map((c) => c.id).sort(),
    h: history && 'given' in history ? history.given : null,
    // Without the secret no history is read: such answers are degraded, and never cached.
    u: history && 'userId' in history ? (userHash ?? 'unkeyed') : null,
    k: req.k ?? null,
    m: req.mode,
  }
  return JSON.stringify(canonical)
}

export async function requestHash(
  req: RerankRequest,
  modelVersion: string,
  historyLimit: number,
  /** The request's keyed user hash (kv-keys.ts `userHash`), when it names a proven user. */
  userHash?: string,
): Promise<string> {
  return sha256Hex(`${modelVersion}\n${canonicalRequest(req, historyLimit, userHash)}`)
}
