/**
 * The canonical form of a re-rank request: what decides its answer, and nothing else. Its hash
 * (with the model version) is the answer cache's key.
 *
 * - The query is normalized as KV keys normalize it.
 * - Candidates are sorted by id: the models read no position (and no retrieval score), so their
 *   order and scores do not change a model's answer. Answers that do depend on them
 *   (passthrough, or any degraded answer) are never cached.
 * - The user id enters only hashed; the history in its order (newest first matters).
 */
import { normalizeQuery, sha256Hex, userHash } from './kv-keys.ts'
import { candidateRefs, type RerankRequest } from './rerank-api.ts'

export async function canonicalRequest(req: RerankRequest, historyLimit: number): Promise<string> {
  const canonical = {
    q: normalizeQuery(req.query),
    c: candidateRefs(req)
      .map((c) => c.id)
      .sort(),
    h: req.user?.history?.slice(0, historyLimit) ?? null,
    u: req.user?.history === undefined && req.user?.id !== undefined ? await userHash(req.user.id) : null,
    k: req.k ?? null,
    m: req.mode,
  }
  return JSON.stringify(canonical)
}

export async function requestHash(req: RerankRequest, modelVersion: string, historyLimit: number): Promise<string> {
  return sha256Hex(`${modelVersion}\n${await canonicalRequest(req, historyLimit)}`)
}
