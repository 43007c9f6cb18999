/**
 * The event log's queue consumer: each batch becomes R2 objects (log-archive.ts) and extends the
 * stored histories of the signed-in shoppers in it (history-keeper.ts), then is acknowledged.
 * A batch that fails anywhere is retried whole (`retryAll`, with a line saying why): Queues delivers it again (the objects
 * overwrite themselves, the histories merge the same items), and after `max_retries` moves it to
 * the dead-letter queue, whose batches this same consumer writes under `dead/` with an error line.
 */
import { edgeConfig, type Bindings, type EdgeConfig } from '../edge/config.ts'
import { HistoryKeeper } from './history-keeper.ts'
import { DEAD_PREFIX, LogArchive, LOG_PREFIX } from './log-archive.ts'
import type { LogRecord } from './log-record.ts'

/** Dead-letter queues are named `<queue>-dead` (wrangler.toml). */
export const isDeadLetterQueue = (queue: string) => queue.endsWith('-dead')

export class InjectedFault extends Error {
  override name = 'InjectedFault'
}

type Log = (fields: Record<string, unknown>) => void
const logLine: Log = (fields) => console.log(JSON.stringify(fields))

/**
 * The worker's `queue` handler.
 *
 * @example
 * export default { fetch: app.fetch, queue: consumeLogBatch }
 */
export async function consumeLogBatch(
  batch: MessageBatch<LogRecord>,
  env: Bindings,
  _ctx?: ExecutionContext,
  log: Log = logLine,
): Promise<void> {
  const bucket = env.EVENT_LOG
  if (!bucket) throw new Error('the EVENT_LOG bucket is not bound (wrangler.toml [[r2_buckets]])')
  const config = edgeConfig(env)
  const records = batch.messages.map((m) => m.body)
  if (isDeadLetterQueue(batch.queue)) {
    const objects = await new LogArchive(bucket, DEAD_PREFIX).write(records)
    log({
      level: 'error',
      msg: 'event log: dead-lettered records kept under dead/',
      queue: batch.queue,
      records: records.length,
      objects: objects.map((o) => o.key),
    })
    batch.ackAll()
    return
  }
  try {
    await storeBatch(batch, records, { bucket, kv: env.EMBEDDINGS }, config, log)
  } catch (e) {
    // Every message again, after Queues' retry delay; past max_retries, to the dead-letter queue.
    log({ level: 'warn', msg: 'event log: batch failed, retried', records: records.length, error: String(e) })
    batch.retryAll()
    return
  }
  batch.ackAll()
}

/** The batch into R2 and the stored histories; throws (and nothing is acknowledged) on any fault. */
async function storeBatch(
  batch: MessageBatch<LogRecord>,
  records: LogRecord[],
  { bucket, kv }: { bucket: R2Bucket; kv: KVNamespace },
  config: EdgeConfig,
  log: Log,
): Promise<void> {
  // Tests inject faults to show that a failed batch lands once all the same.
  if (config.CONSUMER_FAIL_SHARE > 0 && Math.random() < config.CONSUMER_FAIL_SHARE)
    throw new InjectedFault(`injected consumer fault (CONSUMER_FAIL_SHARE=${config.CONSUMER_FAIL_SHARE})`)
  const attempt = Math.max(...batch.messages.map((m) => m.attempts))
  // The attempt that wrote it: a redelivery overwrites the object with its own.
  const objects = await new LogArchive(bucket, LOG_PREFIX).write(records, { attempt: String(attempt) })
  const users = await new HistoryKeeper(kv, {
    limit: config.HISTORY_LIMIT,
    types: config.HISTORY_EVENT_TYPES,
  }).update(records)
  log({
    level: 'info',
    msg: 'event log: batch stored',
    records: records.length,
    objects: objects.length,
    histories: users,
    attempt,
  })
}
