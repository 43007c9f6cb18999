import { describe, expect, it } from 'vitest'
import { DeadlineExceeded, DynamicBatcher, QueueFull, type BatcherOptions } from '../../../functions/origin/batcher.ts'

/**
 * The batcher alone, over a run function that records the batches it is given and holds each one
 * until the test lets it end (`finish()`), so what queues during a run is up to the test.
 */
function gated(opts: BatcherOptions = {}) {
  const batches: number[][] = []
  const gates: (() => void)[] = []
  const batcher = new DynamicBatcher<number, number>(async (jobs) => {
    batches.push(jobs)
    await new Promise<void>((open) => gates.push(open))
    return jobs.map((j) => j * 10)
  }, opts)
  /** Ends the running batch, and waits until the next one (if any) has started. */
  const finish = async () => {
    gates.shift()!()
    await new Promise((r) => setTimeout(r, 0))
  }
  return { batcher, batches, finish }
}

/** A run function that answers at once. */
function recording(opts: BatcherOptions = {}) {
  const batches: number[][] = []
  const batcher = new DynamicBatcher<number, number>(
    async (jobs) => (batches.push(jobs), jobs.map((j) => j * 10)),
    opts,
  )
  return { batcher, batches }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The end of the current event-loop turn (after I/O callbacks, before timers of later turns). */
const turn = () => new Promise((r) => setImmediate(r))

describe('DynamicBatcher, dispatch', () => {
  it('starts a lone job within the event-loop turn it arrived in, when no batch is running', async () => {
    const { batcher, batches } = recording()
    void batcher.submit(1)
    await turn()
    expect(batches).toEqual([[1]])
  })

  it('runs the jobs that arrive in one turn as one batch', async () => {
    const { batcher, batches } = recording()
    await Promise.all([1, 2, 3].map((j) => batcher.submit(j)))
    expect(batches).toEqual([[1, 2, 3]])
  })

  it('queues what arrives while a batch runs, and runs it as the next batch when that one ends', async () => {
    const { batcher, batches, finish } = gated()
    const all = [batcher.submit(1)]
    await turn()
    all.push(...[2, 3, 4].map((j) => batcher.submit(j)))
    expect(batches).toEqual([[1]])
    expect(batcher.queued).toBe(3)
    await finish()
    expect(batches).toEqual([[1], [2, 3, 4]])
    await finish()
    await Promise.all(all)
  })

  it('takes at most maxBatch of the queue per batch', async () => {
    const { batcher, batches, finish } = gated({ maxBatch: 2 })
    const all = [batcher.submit(1)]
    await turn()
    all.push(...[2, 3, 4, 5, 6].map((j) => batcher.submit(j)))
    for (let i = 0; i < 4; i++) await finish()
    await Promise.all(all)
    expect(batches).toEqual([[1], [2, 3], [4, 5], [6]])
  })

  it('with maxBatch 1, runs each job alone', async () => {
    const { batcher, batches } = recording({ maxBatch: 1 })
    await Promise.all([1, 2, 3].map((j) => batcher.submit(j)))
    expect(batches).toEqual([[1], [2], [3]])
  })

  it('gives each job its own result, in the order of the batch', async () => {
    const { batcher } = recording()
    const results = await Promise.all([1, 2, 3].map((j) => batcher.submit(j)))
    expect(results.map((r) => r.result)).toEqual([10, 20, 30])
  })
})

describe('DynamicBatcher, the opt-in window', () => {
  it('holds a batch that could start at once for windowMs, gathering what arrives meanwhile', async () => {
    const { batcher, batches } = recording({ windowMs: 20 })
    const all = [1, 2, 3].map((j) => batcher.submit(j))
    expect(batches).toEqual([])
    await Promise.all(all)
    expect(batches).toEqual([[1, 2, 3]])
  })

  it('starts a full batch without waiting the window out', () => {
    const { batcher, batches } = recording({ windowMs: 60_000, maxBatch: 2 })
    void batcher.submit(1)
    void batcher.submit(2)
    expect(batches).toEqual([[1, 2]])
  })
})

describe('DynamicBatcher, what each request learns of its batch', () => {
  it('reports its batch size, the time it queued and the time its batch ran', async () => {
    const { batcher, finish } = gated()
    const first = batcher.submit(1)
    await turn()
    const queued = [batcher.submit(2), batcher.submit(3)]
    await sleep(30)
    await finish()
    await sleep(20)
    await finish()
    const { batch: alone } = await first
    const { batch } = await queued[0]
    expect(alone.size).toBe(1)
    expect(alone.queueMs).toBeLessThan(20) // it waited for no batch; the others waited out one
    expect(batch.size).toBe(2)
    expect(batch.queueMs).toBeGreaterThanOrEqual(25)
    expect(batch.runMs).toBeGreaterThanOrEqual(15)
  })

  it('counts the batches run and the jobs they carried', async () => {
    const { batcher, finish } = gated()
    const all = [batcher.submit(1)]
    await turn()
    all.push(batcher.submit(2), batcher.submit(3))
    await finish()
    await finish()
    await Promise.all(all)
    expect(batcher.totals).toEqual({ batches: 2, jobs: 3 })
  })
})

describe('DynamicBatcher, overload and failure', () => {
  it('refuses a job when maxQueue jobs wait behind the running batch', async () => {
    const { batcher, finish } = gated({ maxQueue: 2 })
    const accepted = [batcher.submit(1)]
    await turn()
    accepted.push(batcher.submit(2), batcher.submit(3)) // 1 runs, 2 and 3 wait
    await expect(batcher.submit(4)).rejects.toThrow(QueueFull)
    await finish()
    await finish()
    await Promise.all(accepted)
  })

  it('drops a job whose deadline passed while it queued, and runs the rest', async () => {
    const { batcher, batches, finish } = gated()
    const running = batcher.submit(1)
    await turn()
    const late = batcher.submit(2, Date.now() + 5)
    const fine = batcher.submit(3, Date.now() + 10_000)
    const lateFailure = expect(late).rejects.toThrow(DeadlineExceeded)
    await sleep(20)
    await finish()
    await lateFailure
    await finish()
    expect((await fine).result).toBe(30)
    await running
    expect(batches).toEqual([[1], [3]])
  })

  it('rejects every job of a batch whose run failed', async () => {
    const batcher = new DynamicBatcher<number, number>(async () => Promise.reject(new Error('model fell over')), {
      windowMs: 5,
    })
    const jobs = [batcher.submit(1), batcher.submit(2)]
    for (const j of jobs) await expect(j).rejects.toThrow('model fell over')
  })

  it('rejects the jobs of a run that returned the wrong number of results', async () => {
    const batcher = new DynamicBatcher<number, number>(async () => [1, 2, 3])
    await expect(batcher.submit(1)).rejects.toThrow('batch of 1 got 3 results')
  })

  it('keeps serving after a failed batch', async () => {
    let calls = 0
    const batcher = new DynamicBatcher<number, number>(async (jobs) => {
      if (calls++ === 0) throw new Error('first call fails')
      return jobs
    })
    await expect(batcher.submit(1)).rejects.toThrow('first call fails')
    expect((await batcher.submit(2)).result).toBe(2)
  })

  it('refuses options that could never run a job', () => {
    expect(() => new DynamicBatcher(async () => [], { maxBatch: 0 })).toThrow(RangeError)
  })
})

describe('DynamicBatcher, shutdown', () => {
  it('drained() resolves only once the running batch and the queue behind it are done', async () => {
    const { batcher, finish } = gated()
    const all = [batcher.submit(1)]
    await turn()
    all.push(batcher.submit(2))
    let drained = false
    void batcher.drained().then(() => (drained = true))
    await finish()
    expect(drained).toBe(false)
    await finish()
    await Promise.all(all)
    await sleep(0)
    expect(drained).toBe(true)
  })
})
