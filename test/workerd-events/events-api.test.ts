import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { signUserToken } from '../../functions/shared/user-token.ts'
import { USER_TOKEN_SECRET } from '../workerd/harness.ts'
import { event, postEvents } from './event-log.ts'

const problemOf = async (res: Response) => ({
  status: res.status,
  ...((await res.json()) as { field?: string; detail?: string; errors?: { field: string }[] }),
})

describe('POST /v1/events: accepted', () => {
  it('answers 202 with the count of a valid batch', async () => {
    const res = await postEvents({
      user: { session: 's-1' },
      events: [event(), event({ type: 'purchase', quantity: 2, value: 19.5 })],
    })
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 202, body: { accepted: 2 } })
  })

  it('takes the text/plain body navigator.sendBeacon sends', async () => {
    const res = await postEvents(JSON.stringify({ events: [event()] }), { 'Content-Type': 'text/plain;charset=UTF-8' })
    expect(res.status).toBe(202)
  })

  it('takes an event for an answer id the log has never seen (events can outrun impressions)', async () => {
    expect((await postEvents({ events: [event({ answer_id: 'never-served' })] })).status).toBe(202)
  })

  it('takes a signed-in user with the token in the body, where sendBeacon cannot set a header', async () => {
    const token = await signUserToken(USER_TOKEN_SECRET, 'shopper-7')
    expect((await postEvents({ user: { id: 'shopper-7', token }, events: [event()] })).status).toBe(202)
  })

  it('lets a browser on CORS_ORIGINS post events', async () => {
    const res = await SELF.fetch('https://edge.test/v1/events', {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' },
    })
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
  })
})

describe('POST /v1/events: refused, the whole batch, naming the event and field', () => {
  it('refuses an unknown type', async () => {
    const res = await problemOf(await postEvents({ events: [event(), event({ type: 'view' })] }))
    expect({ status: res.status, field: res.field }).toEqual({ status: 400, field: 'events.1.type' })
  })

  it('refuses an impression sent by a page (impressions are the edge’s own)', async () => {
    expect((await problemOf(await postEvents({ events: [event({ type: 'impression' })] }))).detail).toMatch(
      /edge's own/,
    )
  })

  it('refuses an event without an event id', async () => {
    const { event_id: _, ...rest } = event()
    expect((await problemOf(await postEvents({ events: [rest] }))).field).toBe('events.0.event_id')
  })

  it('refuses an event without an answer id', async () => {
    const { answer_id: _, ...rest } = event()
    expect((await problemOf(await postEvents({ events: [rest] }))).field).toBe('events.0.answer_id')
  })

  it('refuses a position out of range', async () => {
    expect((await problemOf(await postEvents({ events: [event({ position: 0 })] }))).field).toBe('events.0.position')
  })

  it('refuses a timestamp more than a day in the future', async () => {
    const time = new Date(Date.now() + 2 * 86_400_000).toISOString()
    const res = await problemOf(await postEvents({ events: [event({ time })] }))
    expect({ field: res.field, detail: res.detail }).toEqual({
      field: 'events.0.time',
      detail: expect.stringMatching(/future/),
    })
  })

  it('refuses a timestamp older than the log keeps', async () => {
    const time = new Date(Date.now() - 400 * 86_400_000).toISOString()
    expect((await problemOf(await postEvents({ events: [event({ time })] }))).detail).toMatch(
      /older than the log keeps \(90 days/,
    )
  })

  it('refuses 101 events', async () => {
    const events = Array.from({ length: 101 }, () => event())
    const res = await problemOf(await postEvents({ events }))
    expect({ field: res.field, detail: res.detail }).toEqual({
      field: 'events',
      detail: expect.stringMatching(/at most 100 events \(got 101\)/),
    })
  })

  it('refuses a body over the limit with 413', async () => {
    const res = await postEvents({ events: [event({ item_id: 'x'.repeat(70_000) })] })
    expect(res.status).toBe(413)
  })

  it('refuses ill-formed Unicode in a session id', async () => {
    const body = `{"user":{"session":"s-\\ud800"},"events":[${JSON.stringify(event())}]}`
    expect((await problemOf(await postEvents(body))).field).toBe('user.session')
  })

  it('refuses one event id twice in a batch', async () => {
    const e = event()
    expect((await problemOf(await postEvents({ events: [e, { ...e }] }))).field).toBe('events.1.event_id')
  })

  it('names every event at fault, not only the first', async () => {
    const res = await problemOf(await postEvents({ events: [event({ position: -1 }), event(), event({ type: 'x' })] }))
    expect(res.errors!.map((e) => e.field)).toEqual(['events.0.position', 'events.2.type'])
  })

  it('refuses a user id without proof with 401 naming user.token', async () => {
    const res = await problemOf(await postEvents({ user: { id: 'shopper-7', token: 'forged' }, events: [event()] }))
    expect({ status: res.status, field: res.field }).toEqual({ status: 401, field: 'user.token' })
  })

  it('refuses a body that is neither JSON nor text/plain with 415', async () => {
    const res = await postEvents('events', { 'Content-Type': 'application/x-www-form-urlencoded' })
    expect(res.status).toBe(415)
  })

  it('answers GET with 405 naming POST', async () => {
    const res = await SELF.fetch('https://edge.test/v1/events')
    expect({ status: res.status, allow: res.headers.get('Allow') }).toEqual({ status: 405, allow: 'POST, OPTIONS' })
  })
})
