/**
 * The event log's storage: R2 objects of gzip NDJSON, one per consumer batch and hour,
 *
 *   <prefix>dt=YYYY-MM-DD/hour=HH/<digest>.ndjson.gz
 *
 * partitioned by the hour the edge took each record (`received_at`, UTC), as Hive-style
 * partitions that DuckDB, Spark and BigQuery prune on. The name is a digest of the object's event
 * ids, so a redelivered batch writes the same name again and overwrites itself: delivery is at
 * least once, the archive holds each batch once. (A batch Queues regroups on redelivery lands
 * under another name; `logs:pull` drops such duplicates by `event_id` and counts them.)
 */
import { sha256Hex } from '../shared/digest.ts'
import type { LogRecord } from './log-record.ts'

/** Where the consumer writes the log, and where what failed every retry goes. */
export const LOG_PREFIX = 'log/'
export const DEAD_PREFIX = 'dead/'

/** The partition of a record: its `received_at` hour. */
export const partitionOf = (r: Pick<LogRecord, 'received_at'>) =>
  `dt=${r.received_at.slice(0, 10)}/hour=${r.received_at.slice(11, 13)}`

/** One written object. */
export interface ArchivedObject {
  key: string
  records: number
}

/**
 * @example
 * const written = await new LogArchive(env.EVENT_LOG).write(records, { attempt: '1' })
 */
export class LogArchive {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly prefix = LOG_PREFIX,
  ) {}

  /** Writes the records, one object per hour they fall in; duplicates of an event id are kept once. */
  async write(records: readonly LogRecord[], metadata: Record<string, string> = {}): Promise<ArchivedObject[]> {
    const byPartition = new Map<string, Map<string, LogRecord>>()
    for (const r of records) {
      const part = partitionOf(r)
      let group = byPartition.get(part)
      if (!group) byPartition.set(part, (group = new Map()))
      if (!group.has(r.event_id)) group.set(r.event_id, r)
    }
    return Promise.all([...byPartition].map(([part, group]) => this.writeObject(part, [...group.values()], metadata)))
  }

  private async writeObject(
    partition: string,
    records: LogRecord[],
    metadata: Record<string, string>,
  ): Promise<ArchivedObject> {
    const ids = records.map((r) => r.event_id).sort()
    const key = `${this.prefix}${partition}/${(await sha256Hex(ids.join('\n'))).slice(0, 32)}.ndjson.gz`
    const ndjson = records.map((r) => JSON.stringify(r)).join('\n') + '\n'
    const gzip = await new Response(
      new Blob([ndjson]).stream().pipeThrough(new CompressionStream('gzip')),
    ).arrayBuffer()
    await this.bucket.put(key, gzip, {
      httpMetadata: { contentType: 'application/gzip' },
      customMetadata: { ...metadata, records: String(records.length), schema: String(records[0]?.schema ?? '') },
    })
    return { key, records: records.length }
  }
}
