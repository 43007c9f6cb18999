// The event log with CONSUMER_FAIL_SHARE=0.5, batches of 5 and 8 retries (vitest.config.ts): the
// real local Queues retries what throws and dead-letters what fails every time.
import { describe, expect, it } from 'vitest'
import type { LogRecord } from '../../functions/events/log-record.ts'
import { event, postEvents, readLog } from '../workerd-events/event-log.ts'

const EVENTS = 200

async function landed(ids: Set<string>, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const objects = [...(await readLog('log/')), ...(await readLog('dead/'))]
    const records: LogRecord[] = objects.flatMap((o) => o.records).filter((r) => ids.has(r.event_id))
    if (new Set(records.map((r) => r.event_id)).size === ids.size || Date.now() > until) return { objects, records }
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('consumer faults: half the batches fail', () => {
  it('lands every event exactly once, in the log or, after every retry failed, under dead/', async () => {
    const events = Array.from({ length: EVENTS }, () => event())
    for (let i = 0; i < EVENTS; i += 100) await postEvents({ events: events.slice(i, i + 100) })
    const ids = new Set(events.map((e) => e.event_id))
    const { objects, records } = await landed(ids)
    expect({
      stored: records.length,
      distinct: new Set(records.map((r) => r.event_id)).size,
      retried: objects.some((o) => Number(o.attempt) > 1),
    }).toEqual({ stored: EVENTS, distinct: EVENTS, retried: true })
  })
})
