/**
 * Dynamic batching that never keeps an idle model waiting: a request that finds no batch running
 * starts one at once (at the end of the current event-loop turn, so that requests read in the same
 * turn share it); requests that arrive while a batch runs queue, and the moment it ends the next
 * batch takes up to `maxBatch` of them. Batches so grow with the load, and a lone request pays no
 * wait. One batch runs at a time: on a CPU backend two would only share the same cores.
 *
 * A bounded queue refuses work it could not start in time (QueueFull → 503), and a request whose
 * deadline has passed when its batch would start is dropped (DeadlineExceeded → 504), not computed
 * for nobody.
 */

export interface BatcherOptions {
  /**
   * How long a batch that could start at once waits for company first, in ms (default 0: it does
   * not wait). For backends where a fuller batch costs next to nothing (a GPU), as Triton's
   * `max_queue_delay_microseconds`; a full batch never waits.
   */
  windowMs?: number
  /** Requests per batch at most (1: no batching). */
  maxBatch?: number
  /** Requests waiting for a batch at most (the running batch's aside); beyond it, QueueFull. */
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
 * const batcher = new DynamicBatcher((jobs) => scoreAll(jobs), { maxBatch: 64 })
 * const { result, batch } = await batcher.submit(job, Date.now() + 300)
 */
export class DynamicBatcher<J, R> {
  readonly windowMs: number
  readonly maxBatch: number
  readonly maxQueue: number
  #queue: Pending<J, R>[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #immediate: ReturnType<typeof setImmediate> | undefined
  #running = false
  #idle: (() => void)[] = []
  #batchesRun = 0
  #jobsRun = 0

  constructor(
    private readonly run: (jobs: J[]) => Promise<R[]>,
    { windowMs = 0, maxBatch = 64, maxQueue = 256 }: BatcherOptions = {},
  ) {
    if (!(windowMs >= 0 && maxBatch >= 1 && maxQueue >= 1)) throw new RangeError('batcher: bad options')
    this.windowMs = windowMs
    this.maxBatch = maxBatch
    this.maxQueue = maxQueue
  }

  /** Requests waiting for a batch now (the running batch's aside). */
  get queued(): number {
    return this.#queue.length
  }

  /** Batches run and jobs they carried since start (their ratio is the mean batch size). */
  get totals(): { batches: number; jobs: number } {
    return { batches: this.#batchesRun, jobs: this.#jobsRun }
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
    if (this.#running) return // the running batch's end takes the queue
    if (this.#queue.length >= this.maxBatch) return void this.#runQueue()
    if (this.windowMs > 0) this.#timer ??= setTimeout(() => void this.#runQueue(), this.windowMs)
    else this.#immediate ??= setImmediate(() => void this.#runQueue())
  }

  /** Batches back to back until the queue is empty: what arrived during a run has waited already. */
  async #runQueue(): Promise<void> {
    clearTimeout(this.#timer)
    clearImmediate(this.#immediate)
    this.#timer = this.#immediate = undefined
    this.#running = true
    try {
      while (this.#queue.length) {
        const live = this.#takeLive()
        if (live.length) await this.#runBatch(live)
      }
    } finally {
      this.#running = false
    }
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /** The next batch off the queue, less the jobs whose deadline has passed (rejected here). */
  #takeLive(): Pending<J, R>[] {
    const now = Date.now()
    return this.#queue.splice(0, this.maxBatch).filter((p) => {
      if (p.deadlineAt > now) return true
      p.reject(new DeadlineExceeded('the deadline passed before the batch started'))
      return false
    })
  }

  async #runBatch(batch: Pending<J, R>[]): Promise<void> {
    this.#batchesRun++
    this.#jobsRun += batch.length
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
    }
  }
}
