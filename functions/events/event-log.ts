/**
 * The producer side of the event log: records go onto the EVENTS queue, after the response (in
 * `waitUntil`), so neither the re-rank path nor the events route waits for them. A send that
 * fails never fails a request: it is counted (per isolate, `/healthz` → `events`) and logged.
 */
import type { LogRecord } from './log-record.ts'

/** Queues takes at most 100 messages per sendBatch. */
const SEND_BATCH = 100

/** What this isolate's producer did since it started. */
export interface ProducerCounts {
  /** Records handed to the queue. */
  sent: number
  /** Records whose send failed (lost to the log). */
  failed: number
}

const counts: ProducerCounts = { sent: 0, failed: 0 }

/** A copy of this isolate's producer counts. */
export const producerCounts = (): ProducerCounts => ({ ...counts })

export interface EventLogOptions {
  /** Where a failure is reported. @default console.log of a JSON line */
  warn?: (fields: Record<string, unknown>) => void
}

/**
 * @example
 * const log = new EventLog(env.EVENTS)
 * c.executionCtx.waitUntil(log.send(records))
 */
export class EventLog {
  private readonly warn: (fields: Record<string, unknown>) => void

  constructor(
    private readonly queue: Queue<LogRecord> | undefined,
    { warn = (fields) => console.log(JSON.stringify({ level: 'error', ...fields })) }: EventLogOptions = {},
  ) {
    this.warn = warn
  }

  /** False when the worker has no EVENTS binding: nothing is logged, and /healthz says so. */
  get enabled(): boolean {
    return this.queue !== undefined
  }

  /** Builds and sends the records once the response is out; never rejects. */
  async send(build: () => LogRecord[] | Promise<LogRecord[]>): Promise<void> {
    if (!this.queue) return
    let records: LogRecord[] = []
    let sent = 0
    try {
      // A macrotask later: the response goes out before the record is built.
      await new Promise((resolve) => setTimeout(resolve, 0))
      records = await build()
      for (; sent < records.length; sent += SEND_BATCH) {
        const chunk = records.slice(sent, sent + SEND_BATCH)
        await this.queue.sendBatch(chunk.map((body) => ({ body, contentType: 'json' as const })))
        counts.sent += chunk.length
      }
    } catch (e) {
      // A record that could not even be built counts as one lost.
      const lost = Math.max(1, records.length - sent)
      counts.failed += lost
      this.warn({ msg: 'event log send failed', lost, error: String(e) })
    }
  }
}
