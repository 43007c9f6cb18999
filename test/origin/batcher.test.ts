import { describe, expect, it } from 'vitest'
import { DeadlineExceeded, DynamicBatcher, QueueFull } from '../../functions/origin/batcher.ts'

// The batcher alone, with a run function that records the batches it is given.
function recording(opts: ConstructorParameters<typeof DynamicBatcher>[1]) {
  const batches: number[][] = []
  const batcher = new DynamicBatcher<number, number>(
    async (jobs) => (batches.push(jobs), jobs.map((j) => j * 10)),
    opts,
  )
  return { batcher, batches }
}

describe('DynamicBatcher', () => {
  it('runs what arrives within the window as one batch, each job getting its own result', async () => {
    const { batcher, batches } = recording({ windowMs: 20, maxBatch: 8 })
    const results = await Promise.all([1, 2, 3].map((j) => batcher.submit(j)))
    expect(batches).toEqual([[1, 2, 3]])
    expect(results.map((r) => r.result)).toEqual([10, 20, 30])
    expect(results[0].batch.size).toBe(3)
  })

  it('never runs more than maxBatch at once', async () => {
    const { batcher, batches } = recording({ windowMs: 20, maxBatch: 2 })
    await Promise.all([1, 2, 3, 4, 5].map((j) => batcher.submit(j)))
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1])
  })

  it('with maxBatch 1 and no window, runs each job alone', async () => {
    const { batcher, batches } = recording({ windowMs: 0, maxBatch: 1 })
    await Promise.all([1, 2, 3].map((j) => batcher.submit(j)))
    expect(batches).toEqual([[1], [2], [3]])
  })

  it('refuses a job when maxQueue jobs are waiting', async () => {
    const { batcher } = recording({ windowMs: 50, maxBatch: 8, maxQueue: 2 })
    const waiting = [batcher.submit(1), batcher.submit(2)]
    await expect(batcher.submit(3)).rejects.toThrow(QueueFull)
    await Promise.all(waiting)
  })

  it('drops a job whose deadline passed before its batch started, and runs the rest', async () => {
    const { batcher, batches } = recording({ windowMs: 30, maxBatch: 8 })
    const late = batcher.submit(1, Date.now() + 5)
    const fine = batcher.submit(2, Date.now() + 10_000)
    await expect(late).rejects.toThrow(DeadlineExceeded)
    expect((await fine).result).toBe(20)
    expect(batches).toEqual([[2]])
  })

  it('rejects every job of a batch whose run failed', async () => {
    const batcher = new DynamicBatcher<number, number>(async () => Promise.reject(new Error('model fell over')), {
      windowMs: 5,
    })
    const jobs = [batcher.submit(1), batcher.submit(2)]
    for (const j of jobs) await expect(j).rejects.toThrow('model fell over')
  })
})
