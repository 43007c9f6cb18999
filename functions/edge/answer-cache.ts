/**
 * Re-rank answers in the Workers Cache API, keyed by the hash of the canonical request and the
 * model version. hono/cache does not fit: it caches only GET and QUERY requests under the URL (or a
 * generated key inside its own URL scheme), while these answers come from POST bodies and from the
 * GET form alike and should share one entry per canonical request.
 */
import { requestHash } from '../shared/canonical-request.ts'
import type { RerankRequest } from '../shared/rerank-api.ts'

/** Headers stored with an answer (per-request ones — request id, timing — are not). */
const STORED_HEADERS = ['Content-Type', 'X-Rerank-Path', 'X-Model-Version'] as const

export interface CachedAnswer {
  body: string
  headers: Record<string, string>
}

/** When the entry was stored (epoch ms), kept with it so a hit can say its age. */
const STORED_AT = 'X-Stored-At'

export class AnswerCache {
  constructor(
    private readonly ttlSeconds: number,
    private readonly cache: Cache | undefined = typeof caches === 'undefined' ? undefined : caches.default,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0 && this.cache !== undefined
  }

  /** The cache key: a URL naming the hash (the Cache API keys by GET request URL). */
  async key(req: RerankRequest, modelVersion: string, historyLimit: number, userHash?: string): Promise<string> {
    return `https://answers.edge-rerank.invalid/v1/rerank/${await requestHash(req, modelVersion, historyLimit, userHash)}`
  }

  async get(key: string): Promise<(CachedAnswer & { ageSeconds: number }) | null> {
    if (!this.enabled) return null
    const hit = await this.cache!.match(key)
    if (!hit) return null
    const headers: Record<string, string> = {}
    for (const h of STORED_HEADERS) {
      const v = hit.headers.get(h)
      if (v !== null) headers[h] = v
    }
    const storedAt = Number(hit.headers.get(STORED_AT))
    const ageSeconds =
      Number.isFinite(storedAt) && storedAt > 0 ? Math.max(0, Math.floor((Date.now() - storedAt) / 1000)) : 0
    return { body: await hit.text(), headers, ageSeconds }
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    if (!this.enabled) return
    const headers = new Headers(answer.headers)
    // The Cache API stores only what says it may be stored; what the caller sees is set per answer.
    headers.set('Cache-Control', `public, max-age=${this.ttlSeconds}`)
    headers.set(STORED_AT, String(Date.now()))
    await this.cache!.put(key, new Response(answer.body, { headers }))
  }
}
