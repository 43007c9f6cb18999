import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readReleaseManifest } from '../../../functions/release/release.ts'
import { startWranglerDev, type DevServer } from '../../../scripts/bench/wrangler-dev.ts'
import { localLogSource } from '../../../scripts/logs/log-source.ts'
import { pullLog } from '../../../scripts/logs/pull.ts'
import { expectedIds, reconcile, type Reconciliation } from '../../../scripts/simulate/record.ts'
import { ShopperWorld } from '../../../scripts/simulate/shopper.ts'
import { simulate, type SimulateSummary } from '../../../scripts/simulate/simulate.ts'
import { releaseWorld } from '../../../scripts/world/release-world.ts'
import { tempDir } from '../world/fixture.ts'
import { freePort } from '../free-port.ts'

// The loop as `npm start` runs it: wrangler dev (workerd; Miniflare's Queues and R2, in a state
// folder of this test's own, its KV empty so answers pass the input order through: what is checked
// here is the log, not the ranking), SYNTHETIC shoppers through the typed client, a third of the
// consumer's batches failing, and the log pulled out with logs:pull. Sent = stored = exported.
const TOKEN_SECRET = 'edge-rerank-test-user-token'

describe('nothing lost: simulated shoppers → edge → queue → R2 → logs:pull', () => {
  const state = tempDir('events-state')
  const out = tempDir('events-log')
  const record = join(tempDir('events-record'), 'record.ndjson')
  let edge: DevServer
  let summary: SimulateSummary
  let check: Reconciliation

  beforeAll(async () => {
    edge = await startWranglerDev(
      await freePort(),
      {
        USER_KEY_SECRET: 'edge-rerank-test-user-key',
        USER_TOKEN_SECRET: TOKEN_SECRET,
        CONSUMER_FAIL_SHARE: '0.3',
        ORIGIN_URL: '',
      },
      { persistTo: state },
    )
    const world = new ShopperWorld(releaseWorld({ manifest: readReleaseManifest('models') }, 'data/worlds/default'))
    summary = await simulate(world, {
      edge: edge.url,
      sessions: 60,
      concurrency: 4,
      seed: 11,
      userTokenSecret: TOKEN_SECRET,
      record,
    })
    const expected = expectedIds(record)
    // The consumer runs on its own clock (batch window, retries): wait until the log holds it all.
    const until = Date.now() + 120_000
    do {
      await new Promise((r) => setTimeout(r, 1000))
      const source = await localLogSource('edge-rerank-events', state)
      try {
        await pullLog(source, out)
      } finally {
        await source.close()
      }
      check = reconcile(expected, out)
    } while (check.missing > 0 && Date.now() < until)
  })

  afterAll(async () => {
    await edge?.stop()
  })

  it('the shoppers got answers and sent events', () => {
    expect({ answers: summary.answers > 0, events: summary.events_sent > 0, failed: summary.events_failed }).toEqual({
      answers: true,
      events: true,
      failed: 0,
    })
  })

  it('the log holds one impression per answer and every event sent: nothing missing', () => {
    expect({ expected: check.expected, missing: check.missing }).toEqual({
      expected: summary.answers + summary.events_sent,
      missing: 0,
    })
  })

  it('and nothing else: the pulled log has exactly those records, once each after dropping duplicates', async () => {
    const source = await localLogSource('edge-rerank-events', state)
    const pulled = await pullLog(source, out).finally(() => source.close())
    expect(pulled.records.distinct).toBe(check.expected)
  })
})
