/**
 * Calls the full-model origin (`POST <ORIGIN_URL>/v1/rerank`, the same contract as the edge) under
 * a deadline, behind a per-origin circuit breaker. Every failure comes back as an OriginFailure
 * whose `reason` goes into the answer's `degraded` list.
 */
import { firstIssue, RerankResponse, type RerankRequestInput } from '../shared/rerank-api.ts'

export type OriginFailureReason =
  | 'origin_not_configured'
  | 'origin_breaker_open'
  | 'origin_timeout'
  | 'origin_error'
  | 'origin_invalid_answer'
  | 'origin_rejected'
  | 'origin_unauthorized'
  | 'origin_rate_limited'
  | 'origin_passthrough'

export class OriginFailure extends Error {
  override name = 'OriginFailure'
  constructor(
    readonly reason: OriginFailureReason,
    detail: string,
    /** Whether this says something about the origin's health (and so counts toward the breaker). */
    readonly originFault = true,
    /** How long the origin asked not to be called again (Retry-After), ms. */
    readonly retryAfterMs?: number,
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
  /** When the half-open trial call went out (0: none out). A trial that never reports back —
   *  its request was cancelled — expires after a cooldown, so the breaker cannot stick open. */
  #trialSince = 0

  constructor(
    readonly failures: number,
    readonly cooldownMs: number,
    /** The clock (epoch ms); tests pass their own. */
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.#failures < this.failures) return 'closed'
    return this.now() < this.#openUntil ? 'open' : 'half-open'
  }

  /** Whether a call may go out now (claims the half-open trial). */
  allow(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open') return false
    if (this.#trialSince && this.now() - this.#trialSince < this.cooldownMs) return false
    this.#trialSince = this.now()
    return true
  }

  success(): void {
    this.#failures = 0
    this.#trialSince = 0
  }

  /** A failed call; `retryAfterMs` (the origin's Retry-After) opens the breaker at once for that long
   *  (an hour at most), or for the cooldown if longer. */
  failure(retryAfterMs?: number): void {
    this.#failures++
    this.#trialSince = 0
    if (retryAfterMs !== undefined) this.#failures = Math.max(this.#failures, this.failures)
    if (this.#failures >= this.failures)
      this.#openUntil = this.now() + Math.max(this.cooldownMs, Math.min(retryAfterMs ?? 0, 3_600_000))
  }

  /** A call that went out but says nothing about the origin's health: frees a trial, counts nothing. */
  release(): void {
    this.#trialSince = 0
  }
}

// One breaker per origin URL, per isolate: the state a breaker needs outlives a request.
const breakers = new Map<string, Breaker>()

export function breakerFor(url: string, failures: number, cooldownMs: number): Breaker {
  let b = breakers.get(url)
  if (!b || b.failures !== failures || b.cooldownMs !== cooldownMs)
    breakers.set(url, (b = new Breaker(failures, cooldownMs)))
  return b
}

export interface OriginCall {
  /** What the origin re-ranks: the request with the history the edge resolved, never the user id. */
  body: RerankRequestInput
  /** Ids the origin may answer with (the request's candidates). */
  asked: Set<string>
  /** How many items a complete answer holds. */
  expected: number
  /** Epoch ms by which the answer must be in. */
  deadlineAt: number
  /** The edge's request id: the origin logs it, so one request reads across both logs. */
  requestId?: string
}

export class OriginClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly breaker: Breaker,
  ) {}

  async rerank(call: OriginCall): Promise<RerankResponse> {
    if (!this.url) throw new OriginFailure('origin_not_configured', 'ORIGIN_URL is not set')
    // No time left is this request's problem, not the origin's: checked before the breaker.
    const remainingMs = call.deadlineAt - Date.now()
    if (remainingMs <= 0) throw new OriginFailure('origin_timeout', 'no time left before the deadline', false)
    if (!this.breaker.allow())
      throw new OriginFailure('origin_breaker_open', 'origin breaker is open after repeated failures')
    try {
      const answer = await this.#call(call, remainingMs)
      this.breaker.success()
      return answer
    } catch (e) {
      if (e instanceof OriginFailure && !e.originFault) this.breaker.release()
      else this.breaker.failure(e instanceof OriginFailure ? e.retryAfterMs : undefined)
      throw e
    }
  }

  async #call({ body, asked, expected, requestId }: OriginCall, remainingMs: number): Promise<RerankResponse> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Deadline-Ms': String(Math.max(1, Math.floor(remainingMs))),
      ...(requestId ? { 'X-Request-Id': requestId } : {}),
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`
    let text: string
    try {
      const res = await fetch(new URL('v1/rerank', this.url.endsWith('/') ? this.url : `${this.url}/`), {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(remainingMs),
        // A redirect would re-send the query and the history to a host nobody configured.
        redirect: 'manual',
      })
      if (!res.ok) {
        discard(res.body)
        throw statusFailure(res)
      }
      text = await readCapped(res, answerByteCap(expected))
    } catch (e) {
      if (e instanceof OriginFailure) throw e
      const timeout = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new OriginFailure(
        timeout ? 'origin_timeout' : 'origin_error',
        `origin call failed: ${e instanceof Error ? e.message : String(e)}`,
      )
    }
    let parsed
    try {
      parsed = RerankResponse.safeParse(JSON.parse(text))
    } catch {
      throw new OriginFailure('origin_invalid_answer', 'origin answer is not JSON')
    }
    if (!parsed.success)
      throw new OriginFailure(
        'origin_invalid_answer',
        `origin answer does not match the contract: ${firstIssue(parsed.error).detail}`,
      )
    const answer = parsed.data
    // The origin could not score either: the edge may still do better than the input order.
    if (answer.path === 'passthrough')
      throw new OriginFailure(
        'origin_passthrough',
        `origin passed through: ${(answer.degraded ?? []).join(', ')}`,
        false,
      )
    const unscored = unscoredProblem(answer)
    if (unscored) throw new OriginFailure('origin_invalid_answer', unscored)
    const ids = answer.items.map((i) => i.id)
    if (new Set(ids).size !== ids.length || ids.some((id) => !asked.has(id)) || ids.length !== expected)
      throw new OriginFailure(
        'origin_invalid_answer',
        `origin answered ${ids.length} items (expected ${expected} distinct candidates)`,
      )
    return answer
  }
}

/** The longest answer `expected` items can honestly take: ids of ≤ 64 characters, a float, the rest. */
export const answerByteCap = (expected: number) => 4096 + 160 * expected

/** A cancel of a body nobody reads can still reject (the origin closed the connection): nothing to
 *  do about it, and left unhandled it would surface as the worker's uncaught exception. */
const ignoreCancelFailure = () => {}

function discard(body: ReadableStream | null): void {
  body?.cancel().catch(ignoreCancelFailure)
}

/** The body as text, refusing one past `cap` bytes (read as a stream: never held whole). */
async function readCapped(res: Response, cap: number): Promise<string> {
  const declared = Number(res.headers.get('Content-Length') ?? 0)
  if (declared > cap) {
    discard(res.body)
    throw new OriginFailure('origin_invalid_answer', `origin answer of ${declared} bytes exceeds ${cap}`)
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    bytes += value.byteLength
    if (bytes > cap) {
      reader.cancel().catch(ignoreCancelFailure)
      throw new OriginFailure('origin_invalid_answer', `origin answer exceeds ${cap} bytes`)
    }
    text += decoder.decode(value, { stream: true })
  }
}

/** Retry-After (seconds or an HTTP date) in ms, when the answer carries one. */
function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('Retry-After')
  if (v === null) return undefined
  const ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - Date.now()
  return Number.isFinite(ms) && ms > 0 ? ms : undefined
}

/**
 * What a non-2xx answer means. Auth failures, timeouts and rate limits are the origin's state (they
 * count toward the breaker, and a Retry-After holds it open); any other 4xx refuses what the edge
 * sent (its own fault: not counted); 3xx and 5xx are origin failures.
 */
function statusFailure(res: Response): OriginFailure {
  const s = res.status
  const wait = retryAfterMs(res)
  if (s >= 300 && s < 400)
    return new OriginFailure(
      'origin_error',
      `origin redirected (${s} to ${res.headers.get('Location') ?? '?'}); not followed`,
    )
  if (s === 401 || s === 403) return new OriginFailure('origin_unauthorized', `origin refused the token: ${s}`)
  if (s === 408) return new OriginFailure('origin_timeout', 'origin answered 408', true, wait)
  if (s === 429) return new OriginFailure('origin_rate_limited', 'origin answered 429', true, wait)
  if (s >= 400 && s < 500) return new OriginFailure('origin_rejected', `origin refused the request: ${s}`, false)
  return new OriginFailure('origin_error', `origin answered ${s}`, true, wait)
}

/**
 * An origin answer ranks what it scored, every score a finite number; items it could not score
 * (candidates it lacks, and it says so) may only follow them, as `null`.
 */
function unscoredProblem(answer: RerankResponse): string | undefined {
  const first = answer.items.findIndex((i) => i.score === null)
  if (first === -1) return undefined
  if (first === 0) return 'origin answer scores no item'
  if (answer.items.slice(first).some((i) => i.score !== null))
    return 'origin answer puts unscored items among scored ones'
  if (!answer.degraded?.includes('candidates_without_embedding'))
    return 'origin answer leaves items unscored without saying why'
  return undefined
}
