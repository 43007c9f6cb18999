/**
 * Calls the full-model origin (`POST <ORIGIN_URL>/v1/rerank`, the same contract as the edge) under
 * a deadline, behind a per-origin circuit breaker. Every failure comes back as an OriginFailure
 * whose `reason` goes into the answer's `degraded` list.
 */
import { RerankResponse, type RerankRequestInput } from '../shared/rerank-api.ts'

export type OriginFailureReason =
  | 'origin_not_configured'
  | 'origin_breaker_open'
  | 'origin_timeout'
  | 'origin_error'
  | 'origin_invalid_answer'

export class OriginFailure extends Error {
  override name = 'OriginFailure'
  constructor(
    readonly reason: OriginFailureReason,
    detail: string,
  ) {
    super(detail)
  }
}

/**
 * Closed → open after `failures` consecutive failures; open for `cooldownMs`; then one trial
 * call (half-open) closes it on success or re-opens it on failure.
 */
export class Breaker {
  #failures = 0
  #openUntil = 0
  #trial = false

  constructor(
    readonly failures: number,
    readonly cooldownMs: number,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.#failures < this.failures) return 'closed'
    return Date.now() < this.#openUntil ? 'open' : 'half-open'
  }

  /** Whether a call may go out now (claims the half-open trial). */
  allow(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open' || this.#trial) return false
    this.#trial = true
    return true
  }

  success(): void {
    this.#failures = 0
    this.#trial = false
  }

  failure(): void {
    this.#failures++
    this.#trial = false
    if (this.#failures >= this.failures) this.#openUntil = Date.now() + this.cooldownMs
  }
}

// One breaker per origin URL, per isolate: the state a breaker needs outlives a request.
const breakers = new Map<string, Breaker>()

export function breakerFor(url: string, failures: number, cooldownMs: number): Breaker {
  let b = breakers.get(url)
  if (!b || b.failures !== failures || b.cooldownMs !== cooldownMs) breakers.set(url, (b = new Breaker(failures, cooldownMs)))
  return b
}

export interface OriginCall {
  /** What the origin re-ranks: the request with the history the edge resolved, never the user id. */
  body: RerankRequestInput
  /** Ids the origin may answer with (the request's candidates). */
  asked: Set<string>
  /** How many items a complete answer holds. */
  expected: number
  /** Milliseconds left before the deadline. */
  remainingMs: number
}

export class OriginClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly breaker: Breaker,
  ) {}

  async rerank(call: OriginCall): Promise<RerankResponse> {
    if (!this.url) throw new OriginFailure('origin_not_configured', 'ORIGIN_URL is not set')
    if (!this.breaker.allow()) throw new OriginFailure('origin_breaker_open', 'origin breaker is open after repeated failures')
    try {
      const answer = await this.#call(call)
      this.breaker.success()
      return answer
    } catch (e) {
      this.breaker.failure()
      throw e
    }
  }

  async #call({ body, asked, expected, remainingMs }: OriginCall): Promise<RerankResponse> {
    if (remainingMs <= 0) throw new OriginFailure('origin_timeout', 'no time left before the deadline')
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Deadline-Ms': String(Math.floor(remainingMs)) }
    if (this.token) headers.Authorization = `Bearer ${this.token}`
    let res: Response
    let text: string
    try {
      res = await fetch(new URL('v1/rerank', this.url.endsWith('/') ? this.url : `${this.url}/`), {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(remainingMs),
      })
      text = await res.text()
    } catch (e) {
      const timeout = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new OriginFailure(timeout ? 'origin_timeout' : 'origin_error', `origin call failed: ${e instanceof Error ? e.message : String(e)}`)
    }
    if (!res.ok) throw new OriginFailure('origin_error', `origin answered ${res.status}`)
    let parsed
    try {
      parsed = RerankResponse.safeParse(JSON.parse(text))
    } catch {
      throw new OriginFailure('origin_invalid_answer', 'origin answer is not JSON')
    }
    if (!parsed.success) throw new OriginFailure('origin_invalid_answer', `origin answer does not match the contract: ${parsed.error.issues[0]?.message}`)
    const answer = parsed.data
    const ids = answer.items.map((i) => i.id)
    if (new Set(ids).size !== ids.length || ids.some((id) => !asked.has(id)) || ids.length !== expected)
      throw new OriginFailure('origin_invalid_answer', `origin answered ${ids.length} items (expected ${expected} distinct candidates)`)
    return answer
  }
}
