/**
 * The storefront's client for `POST /v1/rerank`: typed with the shared contract, and safe to call
 * from a page. On a timeout, a network error, a 5xx, a refused request or an answer outside the
 * contract it never throws: it returns the candidates in their input order (by retrieval score when
 * every one has one), `path: "passthrough"`, and says why in `degraded`.
 */
import { retrievalOrder } from '../shared/ranking.ts'
import { candidateId, RerankResponse, type RerankRequestInput } from '../shared/rerank-api.ts'

export type ClientReason =
  'client_timeout' | 'client_network_error' | 'client_server_error' | 'client_rejected' | 'client_invalid_answer'

export interface RerankOptions {
  /** Give up after this many ms (default 1000): the page shows the input order instead. */
  timeoutMs?: number
  /** Aborts the call (e.g. a newer search replaced this one). */
  signal?: AbortSignal
  /** A signed user token (functions/shared/user-token.ts), for requests naming `user.id`. */
  userToken?: string
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
}

export type RerankAnswer = RerankResponse & {
  /** The answer's response headers the edge exposes, when it answered. */
  headers?: { path: string | null; cache: string | null; timing: string | null }
  /** The problem a refused request got (a 4xx), so a developer can see what to fix. */
  problem?: unknown
}

const inputOrder = (request: RerankRequestInput, reason: ClientReason, problem?: unknown): RerankAnswer => {
  const items = retrievalOrder(request.candidates.map((c) => (typeof c === 'string' ? { id: c } : c)))
  return {
    items: items.slice(0, request.k ?? items.length),
    path: 'passthrough',
    model: 'client',
    degraded: [reason],
    ...(problem === undefined ? {} : { problem }),
  }
}

/**
 * Re-ranks `request` at `baseUrl` (the edge's origin, e.g. `https://rerank.example.com`).
 *
 * @example
 * const answer = await rerank('https://rerank.example.com', { query, candidates }, { timeoutMs: 300 })
 * render(answer.items) // re-ranked, or the input order when the edge could not answer in time
 */
export async function rerank(
  baseUrl: string,
  request: RerankRequestInput,
  opts: RerankOptions = {},
): Promise<RerankAnswer> {
  const { timeoutMs = 1000, signal, userToken } = opts
  const doFetch = opts.fetch ?? fetch
  const timeout = AbortSignal.timeout(timeoutMs)
  let res: Response
  let text: string
  try {
    res = await doFetch(new URL('v1/rerank', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(userToken ? { 'X-User-Token': userToken } : {}) },
      body: JSON.stringify(request),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    })
    text = await res.text()
  } catch {
    return inputOrder(request, timeout.aborted ? 'client_timeout' : 'client_network_error')
  }
  if (res.status >= 500) return inputOrder(request, 'client_server_error')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return inputOrder(request, res.ok ? 'client_invalid_answer' : 'client_rejected')
  }
  if (!res.ok) return inputOrder(request, 'client_rejected', json)
  const parsed = RerankResponse.safeParse(json)
  if (!parsed.success) return inputOrder(request, 'client_invalid_answer')
  // Only ids that were asked for, once each: anything else is not this request's answer.
  const asked = new Set(request.candidates.map(candidateId))
  const seen = new Set<string>()
  for (const { id } of parsed.data.items) {
    if (!asked.has(id) || seen.has(id)) return inputOrder(request, 'client_invalid_answer')
    seen.add(id)
  }
  const h = res.headers
  return {
    ...parsed.data,
    headers: { path: h.get('X-Rerank-Path'), cache: h.get('X-Cache'), timing: h.get('Server-Timing') },
  }
}

export { track, type TrackEvent, type TrackOptions, type TrackResult } from './track.ts'
