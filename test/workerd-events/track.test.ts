import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { track } from '../../functions/client/rerank-client.ts'
import { event, waitForLog } from './event-log.ts'

const BASE = 'https://edge.test'
/** The worker's own fetch, as a page's global fetch would reach it. */
const toWorker: typeof fetch = (input, init) => SELF.fetch(input as string, init as RequestInit)

describe('track (the storefront client)', () => {
  it('sends by fetch where there is no beacon, and the events land in the log', async () => {
    const events = [event(), event()]
    const result = await track(BASE, events, { beacon: null, fetch: toWorker, user: { session: 'tab-1' } })
    const ids = new Set(events.map((e) => e.event_id))
    const logged = await waitForLog((rs) => rs.filter((r) => ids.has(r.event_id)).length === 2)
    expect({ result, logged: logged.filter((r) => ids.has(r.event_id)).length }).toEqual({
      result: { sent: 2, failed: 0, via: 'fetch' },
      logged: 2,
    })
  })

  it('hands the batch to the beacon when there is one', async () => {
    const beaconed: string[] = []
    const result = await track(BASE, [event()], { beacon: (_url, data) => (beaconed.push(data), true) })
    expect({ via: result.via, bodies: beaconed.length }).toEqual({ via: 'beacon', bodies: 1 })
  })

  it('falls back to fetch when the beacon refuses', async () => {
    const result = await track(BASE, [event()], { beacon: () => false, fetch: toWorker })
    expect(result.via).toBe('fetch')
  })

  it('splits 250 events into batches of 100', async () => {
    const sizes: number[] = []
    const beacon = (_url: string, data: string) => (sizes.push(JSON.parse(data).events.length), true)
    await track(
      BASE,
      Array.from({ length: 250 }, () => event()),
      { beacon },
    )
    expect(sizes).toEqual([100, 100, 50])
  })

  it('returns a refused batch with its problem, without throwing', async () => {
    const result = await track(BASE, [event({ type: 'view' })], { beacon: null, fetch: toWorker })
    expect({ sent: result.sent, failed: result.failed, field: (result.problem as { field: string }).field }).toEqual({
      sent: 0,
      failed: 1,
      field: 'events.0.type',
    })
  })

  it('returns a network error as failed, without throwing', async () => {
    const down: typeof fetch = () => Promise.reject(new TypeError('network down'))
    const result = await track(BASE, [event()], { beacon: null, fetch: down })
    expect({ sent: result.sent, failed: result.failed }).toEqual({ sent: 0, failed: 1 })
  })
})
