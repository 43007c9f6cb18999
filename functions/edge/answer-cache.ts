/**
 * Re-rank answers in the Workers Cache API, and the whole cache policy of an answer: its key, what
 * may be stored, the `Cache-Control` and `Age` a caller sees, and the put that outlives the request.
 *
 * hono/cache does not fit: it caches only GET and QUERY requests under the URL (or a generated key
 * inside its own URL scheme), while these answers come from POST bodies and from the GET form alike
 * and should share one entry per canonical request.
 */
import { requestHash, type CanonicalParts } from '../shared/canonical-request.ts'

/** Headers stored with an answer (per-request ones — request id, timing — are not). */
const STORED_HEADERS = ['Content-Type', 'X-Rerank-Path', 'X-Model-Version'] as const

/** An answer as it is stored and served: its body and the headers that travel with it. */
export interface CachedAnswer {
  body: string
  headers: Record<string, string>
}

/** What the cache policy reads of a resolved request (resolved-request.ts). */
export interface CacheSubject extends CanonicalParts {
  /** A user id was named but not proven: its answer is neither looked up nor stored. */
  proof?: string
  proven: boolean
  cacheKey?: string
}

/** When the entry was stored (epoch ms), kept with it so a hit can say its age. */
const STORED_AT = 'X-Stored-At'

export interface AnswerCacheOptions {
  /** Seconds an answer may be served from the cache (CACHE_TTL_S); 0 turns the cache off. */
  ttlSeconds: number
  /** The release version: a new release never serves the old one's answers. */
  modelVersion: string
  /** Defaults to the Cache API's default cache, where the runtime has one. */
  cache?: Cache
}

/**
 * @example
 * const cache = new AnswerCache({ ttlSeconds: config.CACHE_TTL_S, modelVersion: manifest.version })
 * const resolved = await resolveRequest(req, { config, userToken, cacheKey: (r) => cache.keyFor(r) })
 * const hit = await cache.lookup(resolved)
 */
export class AnswerCache {
  private readonly ttlSeconds: number
  private readonly modelVersion: string
  private readonly cache: Cache | undefined

  constructor({
    ttlSeconds,
    modelVersion,
    cache = typeof caches === 'undefined' ? undefined : caches.default,
  }: AnswerCacheOptions) {
    this.ttlSeconds = ttlSeconds
    this.modelVersion = modelVersion
    this.cache = cache
  }

  get enabled(): boolean {
    return this.ttlSeconds > 0 && this.cache !== undefined
  }

  /** The key (a URL naming the hash: the Cache API keys by GET request URL), or none: no cache to
   *  ask, or a user id without proof, whose personalized answer must not be served to anyone. */
  async keyFor(subject: Omit<CacheSubject, 'cacheKey'>): Promise<string | undefined> {
    if (!this.enabled || (subject.proof !== undefined && !subject.proven)) return undefined
    return `https://answers.edge-rerank.invalid/v1/rerank/${await requestHash(subject, this.modelVersion)}`
  }

  /** A stored answer with the headers a hit is served with, or null (no key, or a miss). */
  async lookup(subject: CacheSubject): Promise<CachedAnswer | null> {
    if (!subject.cacheKey || !this.enabled) return null
    const hit = await this.cache!.match(subject.cacheKey)
    if (!hit) return null
    const headers: Record<string, string> = {}
    for (const h of STORED_HEADERS) {
      const v = hit.headers.get(h)
      if (v !== null) headers[h] = v
    }
    const storedAt = Number(hit.headers.get(STORED_AT))
    const age = Number.isFinite(storedAt) && storedAt > 0 ? Math.max(0, Math.floor((Date.now() - storedAt) / 1000)) : 0
    headers['X-Cache'] = 'HIT'
    headers['Age'] = String(age)
    // The remaining lifetime, not a fresh one: a hit must not restart the TTL downstream.
    headers['Cache-Control'] = cacheControl(subject, this.ttlSeconds - age)
    return { body: await hit.text(), headers }
  }

  /** The caching headers of a freshly computed answer. */
  missHeaders(subject: CacheSubject, cacheable: boolean): Record<string, string> {
    return {
      'X-Cache': 'MISS',
      'Cache-Control': cacheable && this.enabled ? cacheControl(subject, this.ttlSeconds) : 'no-store',
    }
  }

  /**
   * Stores a full answer under the subject's key, after the response (through `waitUntil`); a
   * failure goes to `onError`, never to the caller. Only full, undegraded answers are stored: a
   * cached fault would outlive the fault.
   */
  store(
    subject: CacheSubject,
    answer: CachedAnswer,
    cacheable: boolean,
    waitUntil: (p: Promise<unknown>) => void,
    onError: (e: unknown) => void,
  ): void {
    if (!cacheable || !subject.cacheKey || !this.enabled) return
    waitUntil(this.put(subject.cacheKey, answer).catch(onError))
  }

  private async put(key: string, answer: CachedAnswer): Promise<void> {
    const headers = new Headers()
    for (const h of STORED_HEADERS) if (answer.headers[h] !== undefined) headers.set(h, answer.headers[h])
    // The Cache API stores only what says it may be stored; what the caller sees is set per answer.
    headers.set('Cache-Control', `public, max-age=${this.ttlSeconds}`)
    headers.set(STORED_AT, String(Date.now()))
    await this.cache!.put(key, new Response(answer.body, { headers }))
  }
}

/** Browsers and shared caches may keep anonymous answers; a personalized one is the user's alone. */
const cacheControl = (subject: CacheSubject, maxAge: number) =>
  `${subject.history !== null ? 'private' : 'public'}, max-age=${Math.max(0, maxAge)}`
