/**
 * Dynamic batching: requests that arrive within a short window run as one model call. A bounded
 * queue refuses work it could not start in time (QueueFull → 503), and a request whose deadline
 * has passed when its batch would start is dropped (DeadlineExceeded → 504), not computed for
 * nobody. One batch runs at a time: on a CPU backend two would only share the same cores.
 */

export interface BatcherOptions {
  /** How long the first request of a batch waits for company, in ms (0: no wait). */
  windowMs?: number
  /** Requests per batch at most (1: no batching). */
  maxBatch?: number
  /** Requests waiting for a batch at most; beyond it, QueueFull. */
  maxQueue?: number
}

export class QueueFull extends Error {
  override name = 'QueueFull'
}

export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded'
}

/** What a batch's run tells about itself, for each request's log line. */
export interface BatchInfo {
  size: number
  /** ms the request waited before its batch started. */
  queueMs: number
  /** ms the batch's run took. */
  runMs: number
}

interface Pending<J, R> {
  job: J
  enqueuedAt: number
  deadlineAt: number
  resolve: (r: { result: R; batch: BatchInfo }) => void
  reject: (e: unknown) => void
}

/**
 * Collects jobs into batches for `run`, which must return one result per job, in order.
 *
 * @example
 * const batcher = new DynamicBatcher((jobs) => scoreAll(jobs), { windowMs: 2, maxBatch: 64 })
 * const { result } = await batcher.submit(job, Date.now() + 300)
 */
export class DynamicBatcher<J, R> {
  readonly windowMs: number
  readonly maxBatch: number
  readonly maxQueue: number
  #queue: Pending<J, R>[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #running = false
  #idle: (() => void)[] = []

  constructor(
    private readonly run: (jobs: J[]) => Promise<R[]>,
    { windowMs = 2, maxBatch = 64, maxQueue = 256 }: BatcherOptions = {},
  ) {
    if (!(windowMs >= 0 && maxBatch >= 1 && maxQueue >= 1)) throw new RangeError('batcher: bad options')
    this.windowMs = windowMs
    this.maxBatch = maxBatch
    this.maxQueue = maxQueue
  }

  /** Requests waiting for a batch now. */
  get queued(): number {
    return this.#queue.length
  }

  /** Resolves with the job's result once its batch ran; rejects with QueueFull or DeadlineExceeded. */
  submit(job: J, deadlineAt = Infinity): Promise<{ result: R; batch: BatchInfo }> {
    if (this.#queue.length >= this.maxQueue)
      return Promise.reject(new QueueFull(`${this.#queue.length} requests are already waiting`))
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, enqueuedAt: performance.now(), deadlineAt, resolve, reject })
      this.#schedule()
    })
  }

  /** Resolves when nothing is queued or running (graceful shutdown). */
  drained(): Promise<void> {
    if (!this.#running && !this.#queue.length) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #schedule(): void {
    if (this.#running) return // the running batch's end picks the queue up
    if (this.#queue.length >= this.maxBatch || this.windowMs === 0) return void this.#flush()
    this.#timer ??= setTimeout(() => this.#flush(), this.windowMs)
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const now = Date.now()
    const taken = this.#queue.splice(0, this.maxBatch)
    const live = taken.filter((p) => {
      if (p.deadlineAt > now) return true
      p.reject(new DeadlineExceeded('the deadline passed before the batch started'))
      return false
    })
    if (live.length) await this.#runBatch(live)
    // What arrived during the run has waited already: it goes now.
    if (this.#queue.length) return this.#flush()
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #runBatch(batch: Pending<J, R>[]): Promise<void> {
    this.#running = true
    const started = performance.now()
    try {
      const results = await this.run(batch.map((p) => p.job))
      if (results.length !== batch.length) throw new Error(`batch of ${batch.length} got ${results.length} results`)
      const runMs = performance.now() - started
      batch.forEach((p, i) =>
        p.resolve({ result: results[i], batch: { size: batch.length, queueMs: started - p.enqueuedAt, runMs } }),
      )
    } catch (e) {
      for (const p of batch) p.reject(e)
    } finally {
      this.#running = false
    }
  }
}
