/**
 * The storefront's client for `POST /v1/events` (docs/events.md): reports what a shopper did after a
 * re-ranked answer. Safe to call from a page: it never throws, and it survives the page being
 * left — `navigator.sendBeacon` where there is one (the browser sends it after the page is gone),
 * else `fetch` with `keepalive`.
 */
import { MAX_EVENTS, type EventBatchInput } from '../shared/events-api.ts'

export type TrackEvent = EventBatchInput['events'][number]

export interface TrackOptions {
  /** Who: a user id with its signed token, or the page's session id (as sent to /v1/rerank). */
  user?: EventBatchInput['user']
  /** `navigator.sendBeacon`, where the page has it (default: the global one; `null`: never). */
  beacon?: ((url: string, data: string) => boolean) | null
  /** The fetch to use when there is no beacon, or it refused (default: the global one). */
  fetch?: typeof fetch
}

export interface TrackResult {
  /** Events handed over (to the beacon, or accepted by the edge). */
  sent: number
  /** Events not sent, and why (a refused batch is refused whole: its problem says what to fix). */
  failed: number
  via: 'beacon' | 'fetch' | 'none'
  problem?: unknown
}

const globalBeacon = (): TrackOptions['beacon'] => {
  const nav = (globalThis as { navigator?: { sendBeacon?: (url: string, data: string) => boolean } }).navigator
  return nav?.sendBeacon ? (url, data) => nav.sendBeacon!(url, data) : null
}

/**
 * Sends `events` (any number: batches of 100) to `baseUrl`'s `/v1/events`.
 *
 * @example
 * await track('https://rerank.example.com', [
 *   { event_id: crypto.randomUUID(), type: 'click', answer_id, item_id, position: 3, time: new Date().toISOString() },
 * ], { user: { session } })
 */
export async function track(baseUrl: string, events: TrackEvent[], opts: TrackOptions = {}): Promise<TrackResult> {
  const url = new URL('v1/events', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString()
  const beacon = opts.beacon === undefined ? globalBeacon() : opts.beacon
  const result: TrackResult = { sent: 0, failed: 0, via: 'none' }
  for (let i = 0; i < events.length; i += MAX_EVENTS) {
    const batch = events.slice(i, i + MAX_EVENTS)
    // A string body: sendBeacon sends it as text/plain, which needs no CORS preflight.
    const body = JSON.stringify({ ...(opts.user ? { user: opts.user } : {}), events: batch })
    if (beacon) {
      try {
        if (beacon(url, body)) {
          result.sent += batch.length
          result.via = 'beacon'
          continue
        }
      } catch {
        // fall through to fetch
      }
    }
    await sendByFetch(url, body, batch.length, opts.fetch ?? globalThis.fetch, result)
  }
  return result
}

async function sendByFetch(url: string, body: string, n: number, doFetch: typeof fetch, result: TrackResult) {
  try {
    // keepalive: the request outlives the page (browsers; workers-types' RequestInit lacks it).
    const init = { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body, keepalive: true }
    const res = await doFetch(url, init as RequestInit)
    result.via = 'fetch'
    if (res.status === 202) result.sent += n
    else {
      result.failed += n
      result.problem = await res.json().catch(() => ({ status: res.status }))
    }
  } catch (e) {
    result.failed += n
    result.problem = { error: String(e) }
  }
}
