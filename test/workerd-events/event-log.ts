/** Shared by the event log's tests (inside workerd): requests to the build entry, and the log as R2 holds it. */
import { SELF } from 'cloudflare:test'
import type { LogRecord } from '../../functions/events/log-record.ts'
import type { EventBatchInput } from '../../functions/shared/events-api.ts'
import { bindings } from '../workerd/harness.ts'

export const postEvents = (body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch('https://edge.test/v1/events', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

export const postRerank = (body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch('https://edge.test/v1/rerank', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

let serial = 0
/** A valid event (a click at position 1 of answer `answer`), with overrides. */
export function event(overrides: Record<string, unknown> = {}): EventBatchInput['events'][number] {
  serial += 1
  return {
    event_id: `ev-${crypto.randomUUID()}-${serial}`,
    type: 'click',
    answer_id: crypto.randomUUID(),
    item_id: 'item-1',
    position: 1,
    time: new Date().toISOString(),
    ...overrides,
  } as EventBatchInput['events'][number]
}

/** Every record in the bucket under `prefix`, read back from its gzip NDJSON objects. */
export async function readLog(prefix = 'log/'): Promise<{ key: string; records: LogRecord[]; attempt?: string }[]> {
  const bucket = bindings.EVENT_LOG!
  const out: { key: string; records: LogRecord[]; attempt?: string }[] = []
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix, cursor, include: ['customMetadata'] })
    for (const o of page.objects) {
      const obj = await bucket.get(o.key)
      const text = await new Response(obj!.body.pipeThrough(new DecompressionStream('gzip'))).text()
      out.push({
        key: o.key,
        records: text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LogRecord),
        attempt: o.customMetadata?.attempt,
      })
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return out
}

/** The log's records once `done` says so (the consumer runs on its own schedule), or the last read. */
export async function waitForLog(
  done: (records: LogRecord[]) => boolean,
  { prefix = 'log/', timeoutMs = 60_000 } = {},
): Promise<LogRecord[]> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const records = (await readLog(prefix)).flatMap((o) => o.records)
    if (done(records) || Date.now() > until) return records
    await new Promise((r) => setTimeout(r, 100))
  }
}
