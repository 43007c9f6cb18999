import { createExecutionContext, createMessageBatch, getQueueResult, SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { consumeLogBatch } from '../../functions/events/consumer.ts'
import type { ImpressionRecord, InteractionRecord, LogRecord } from '../../functions/events/log-record.ts'
import { userHash } from '../../functions/shared/kv-keys.ts'
import { signUserToken } from '../../functions/shared/user-token.ts'
import { bindings, FIXTURES, seedFixtureKv, storedHistoryKey, USER_TOKEN_SECRET, userKey } from '../workerd/harness.ts'
import { event, postEvents, postRerank, readLog, waitForLog } from './event-log.ts'

beforeAll(seedFixtureKv)

const byId = (records: LogRecord[], id: string) => records.find((r) => r.event_id === id)
const answerOf = async (res: Response) => ({
  header: res.headers.get('X-Answer-Id'),
  body: (await res.json()) as { answer_id: string; items: { id: string }[] },
})

describe('answer ids', () => {
  it('gives every answer an answer_id, in the body and the X-Answer-Id header', async () => {
    const { header, body } = await answerOf(await postRerank(FIXTURES.anonymous.request))
    expect(body.answer_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(header).toBe(body.answer_id)
  })

  it('gives a cache hit its own answer id, not the one of the answer that filled the cache', async () => {
    const request = { ...FIXTURES.anonymous.request, k: 7 }
    const first = await postRerank(request)
    const { body: miss } = await answerOf(first)
    const hit = await postRerank(request)
    expect(hit.headers.get('X-Cache')).toBe('HIT')
    expect((await answerOf(hit)).body.answer_id).not.toBe(miss.answer_id)
  })
})

describe('impressions in the log', () => {
  it('logs an answer as an impression: the storefront’s candidates and the order served', async () => {
    const { request } = FIXTURES.anonymous
    const { body } = await answerOf(await postRerank({ ...request, k: 11, user: { session: 'visit-1' } }))
    const records = await waitForLog((rs) => byId(rs, body.answer_id) !== undefined)
    const imp = byId(records, body.answer_id) as ImpressionRecord
    expect({
      type: imp.type,
      cache: imp.cache,
      candidates: imp.candidates.map((c) => c.id),
      served: imp.served.map((s) => s.id),
      session: imp.session_key?.length,
    }).toEqual({
      type: 'impression',
      cache: 'miss',
      candidates: request.candidates.map((c) => (typeof c === 'string' ? c : c.id)),
      served: body.items.map((i) => i.id),
      session: 32,
    })
  })

  it('logs a cache hit as an impression of its own', async () => {
    const request = { ...FIXTURES.anonymous.request, k: 9 }
    await postRerank(request)
    const hit = await answerOf(await postRerank(request))
    const records = await waitForLog((rs) => byId(rs, hit.body.answer_id) !== undefined)
    expect((byId(records, hit.body.answer_id) as ImpressionRecord).cache).toBe('hit')
  })

  it('keys a signed-in user and stores no raw user id', async () => {
    const { request } = FIXTURES['user-id']
    const userId = request.user!.id!
    const token = await signUserToken(USER_TOKEN_SECRET, userId)
    const { body } = await answerOf(await postRerank(request, { 'X-User-Token': token }))
    const records = await waitForLog((rs) => byId(rs, body.answer_id) !== undefined)
    const imp = byId(records, body.answer_id)!
    expect({ user_key: imp.user_key, raw: JSON.stringify(imp).includes(userId) }).toEqual({
      user_key: await userHash(userKey, userId),
      raw: false,
    })
  })
})

describe('storefront events in the log', () => {
  it('stores every accepted event once', async () => {
    const events = Array.from({ length: 30 }, () => event())
    await postEvents({ user: { session: 'visit-2' }, events })
    const ids = new Set(events.map((e) => e.event_id))
    const records = await waitForLog((rs) => rs.filter((r) => ids.has(r.event_id)).length >= ids.size)
    expect(records.filter((r) => ids.has(r.event_id)).length).toBe(30)
  })

  it('stores nothing of a refused batch', async () => {
    const refused = event()
    await postEvents({ events: [refused, event({ position: 0 })] })
    const marker = event()
    await postEvents({ events: [marker] })
    const records = await waitForLog((rs) => byId(rs, marker.event_id) !== undefined)
    expect(byId(records, refused.event_id)).toBeUndefined()
  })

  it('partitions objects by date and hour of receipt', async () => {
    const e = event()
    await postEvents({ events: [e] })
    const records = await waitForLog((rs) => byId(rs, e.event_id) !== undefined)
    const rec = byId(records, e.event_id)!
    const keys = (await readLog()).filter((o) => o.records.some((r) => r.event_id === e.event_id)).map((o) => o.key)
    expect(keys).toEqual([
      expect.stringMatching(
        new RegExp(
          `^log/dt=${rec.received_at.slice(0, 10)}/hour=${rec.received_at.slice(11, 13)}/[0-9a-f]{32}\\.ndjson\\.gz$`,
        ),
      ),
    ])
  })
})

/** A consumer batch of `records`, as Queues delivers it (attempt `attempts`). */
const batchOf = (queue: string, records: LogRecord[], attempts = 1) =>
  createMessageBatch<LogRecord>(
    queue,
    records.map((body, i) => ({ id: `m-${i}-${body.event_id}`, timestamp: new Date(), attempts, body })),
  )

const interaction = (overrides: Partial<InteractionRecord> = {}): InteractionRecord => ({
  schema: 1,
  event_id: `ev-${crypto.randomUUID()}`,
  type: 'click',
  time: new Date().toISOString(),
  received_at: new Date().toISOString(),
  user_key: null,
  key_version: null,
  session_key: null,
  answer_id: crypto.randomUUID(),
  item_id: 'item-1',
  position: 1,
  quantity: null,
  value: null,
  ...overrides,
})

describe('the consumer', () => {
  it('writes a redelivered batch over itself: one object, each record once', async () => {
    const records = [interaction(), interaction()]
    for (const attempts of [1, 2]) {
      const ctx = createExecutionContext()
      await consumeLogBatch(batchOf('edge-rerank-events', records, attempts), bindings, ctx, () => {})
    }
    const objects = (await readLog()).filter((o) => o.records.some((r) => r.event_id === records[0].event_id))
    expect({ objects: objects.length, records: objects[0].records.length, attempt: objects[0].attempt }).toEqual({
      objects: 1,
      records: 2,
      attempt: '2',
    })
  })

  it('acknowledges a batch it stored', async () => {
    const batch = batchOf('edge-rerank-events', [interaction()])
    const ctx = createExecutionContext()
    await consumeLogBatch(batch, bindings, ctx, () => {})
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true)
  })

  it('retries a batch whose storage fails, acknowledging nothing', async () => {
    const failing = { put: async () => Promise.reject(new Error('R2 is down')) } as unknown as R2Bucket
    const batch = batchOf('edge-rerank-events', [interaction()])
    const ctx = createExecutionContext()
    await consumeLogBatch(batch, { ...bindings, EVENT_LOG: failing }, ctx, () => {})
    const result = await getQueueResult(batch, ctx)
    expect({ retry: result.retryBatch.retry, ackAll: result.ackAll }).toEqual({ retry: true, ackAll: false })
  })

  it('keeps what the dead-letter queue holds under dead/, and says so in an error line', async () => {
    const lines: Record<string, unknown>[] = []
    const record = interaction()
    await consumeLogBatch(batchOf('edge-rerank-events-dead', [record]), bindings, createExecutionContext(), (l) =>
      lines.push(l),
    )
    const dead = (await readLog('dead/')).flatMap((o) => o.records)
    expect({ kept: byId(dead, record.event_id) !== undefined, level: lines[0]?.level }).toEqual({
      kept: true,
      level: 'error',
    })
  })
})

describe('stored histories from events', () => {
  const userId = 'history-shopper'
  const signed = async (items: string[], user = userId) => ({
    user: { id: user, token: await signUserToken(USER_TOKEN_SECRET, user) },
    events: items.map((item_id, i) =>
      event({ item_id, time: new Date(Date.now() - (items.length - i) * 1000).toISOString() }),
    ),
  })
  const stored = async (user = userId) =>
    JSON.parse((await bindings.EMBEDDINGS.get(await storedHistoryKey(user))) ?? 'null') as string[] | null

  async function untilStored(check: (h: string[] | null) => boolean, user = userId) {
    const until = Date.now() + 60_000
    let h = await stored(user)
    while (!check(h) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100))
      h = await stored(user)
    }
    return h
  }

  it('puts a signed-in shopper’s clicks into their stored history, newest first, each once', async () => {
    await bindings.EMBEDDINGS.put(await storedHistoryKey(userId), JSON.stringify(['old-1', 'b']))
    await postEvents(await signed(['a', 'b', 'c']))
    expect(await untilStored((h) => h?.[0] === 'c')).toEqual(['c', 'b', 'a', 'old-1'])
  })

  it('caps a stored history at HISTORY_LIMIT', async () => {
    const user = 'history-shopper-long'
    const items = Array.from({ length: 60 }, (_, i) => `it-${i}`)
    await postEvents(await signed(items, user))
    const h = await untilStored((x) => x?.[0] === 'it-59', user)
    expect({ length: h?.length, last: h?.at(-1) }).toEqual({ length: 50, last: 'it-10' })
  })

  it('keeps no stored history for an anonymous session', async () => {
    const e = event({ item_id: 'session-item' })
    await postEvents({ user: { session: 'visit-3' }, events: [e] })
    await waitForLog((rs) => byId(rs, e.event_id) !== undefined)
    const list = await bindings.EMBEDDINGS.list({ prefix: 'hist/' })
    const values = await Promise.all(list.keys.map((k) => bindings.EMBEDDINGS.get(k.name)))
    expect(values.some((v) => v?.includes('session-item'))).toBe(false)
  })
})

describe('/healthz', () => {
  it('says the event log is on and counts what this isolate sent', async () => {
    const events = async () =>
      ((await (await SELF.fetch('https://edge.test/healthz')).json()) as { events: { sent: number } }).events
    const before = (await events()).sent
    const e = event()
    await postEvents({ events: [e, event()] })
    // Sent after the response: once the record is in the log, its send is counted.
    await waitForLog((rs) => byId(rs, e.event_id) !== undefined)
    const after = await events()
    // At least these two: an earlier test's impressions may still be on their way.
    expect({ ...after, sent: after.sent - before }).toMatchObject({
      logging: true,
      sent: expect.toSatisfy((n: number) => n >= 2),
      failed: 0,
    })
  })
})
