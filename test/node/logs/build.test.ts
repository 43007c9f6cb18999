import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { decodeNpy } from '../../../functions/release/npy.ts'
import { readCatalog } from '../../../scripts/embed/catalog.ts'
import { buildFromLog, HISTORY_MAX, LogBuildError, type BuildSummary } from '../../../scripts/logs/build.ts'
import { logFiles } from '../../../scripts/logs/pull.ts'
import { exportWorldLog } from '../../../scripts/world/export-log.ts'
import { readReleaseManifest } from '../../../functions/release/release.ts'
import { releaseWorld } from '../../../scripts/world/release-world.ts'
import { SESSION, SESSION_COLS, type World } from '../../../scripts/world/world.ts'
import { tempDir } from '../world/fixture.ts'

// logs:build on a real engine (DuckDB) over the SYNTHETIC world's first sessions written as the
// edge's event log: the arrays must be the world's own lists and labels, and every history must be
// what the user did before that impression, rebuilt here independently in plain TypeScript.
const SESSIONS = 1500
const WIDTHS = { text: 128, image: 128, query: 128 }

let world: World
let set: string
let summary: BuildSummary
const npy = (name: string) => decodeNpy(readFileSync(join(set, 'built', `${name}.npy`))).data

beforeAll(async () => {
  // The release's own world, generated when missing (as every test that reads it).
  world = releaseWorld({ manifest: readReleaseManifest('models') }, 'data/worlds/default')
  set = tempDir('log-set')
  exportWorldLog('data/worlds/default', world, set, SESSIONS)
  summary = await buildFromLog({
    log: join(set, 'log'),
    catalog: readCatalog(join(set, 'catalog'), WIDTHS),
    out: join(set, 'built'),
  })
})

/** What each session's history should be: the user's world history, then their in-log clicks and purchases before it. */
function expectedHistories(): number[][] {
  const max = world.config.historyMax
  const perUser = new Map<number, number[]>() // newest first
  const out: number[][] = []
  for (let s = 0; s < SESSIONS; s++) {
    const user = world.sessions.table[s * SESSION_COLS + SESSION.user]
    let h = perUser.get(user)
    if (!h) {
      h = []
      for (let j = 0; j < max && world.users.history[user * max + j] >= 0; j++)
        h.push(world.users.history[user * max + j])
      h = [...new Set(h)]
    }
    out.push(h.slice(0, HISTORY_MAX))
    const acted: number[] = []
    for (let r = world.sessions.offset[s]; r < world.sessions.offset[s + 1]; r++)
      if (world.candidates.click[r] || world.candidates.purchase[r]) acted.push(world.candidates.item[r])
    // Within a session, later positions happened later: the last acted item is the newest.
    perUser.set(user, [...new Set([...acted.reverse(), ...h])])
  }
  return out
}

describe('logs:build on the world written as an event log', () => {
  it('keeps every impression, in time order, as the world lists them', () => {
    const session = npy('session') as Int32Array
    const queries = Array.from({ length: SESSIONS }, (_, s) => session[s * 4 + 1])
    const worldQueries = Array.from(
      { length: SESSIONS },
      (_, s) => world.sessions.table[s * SESSION_COLS + SESSION.query],
    )
    expect({ lists: summary.counts.sessions, queries }).toEqual({ lists: SESSIONS, queries: worldQueries })
  })

  it('shows the same items in the same order, with the same clicks and purchases', () => {
    const end = world.sessions.offset[SESSIONS]
    expect({
      item: Array.from(npy('cand_item')),
      click: Array.from(npy('cand_click')),
      purchase: Array.from(npy('cand_purchase')),
    }).toEqual({
      item: Array.from(world.candidates.item.subarray(0, end)),
      click: Array.from(world.candidates.click.subarray(0, end)),
      purchase: Array.from(world.candidates.purchase.subarray(0, end)),
    })
  })

  it('rebuilds each history from earlier interactions only, newest first', () => {
    const history = npy('user_history') as Int32Array
    const rows = Array.from({ length: SESSIONS }, (_, s) =>
      Array.from(history.subarray(s * HISTORY_MAX, (s + 1) * HISTORY_MAX)).filter((i) => i >= 0),
    )
    expect(rows).toEqual(expectedHistories())
  })

  it('splits by time: train, then valid, then test', () => {
    const session = npy('session') as Int32Array
    const splits = Array.from({ length: SESSIONS }, (_, s) => session[s * 4 + 2])
    expect({ sorted: splits.every((v, i) => i === 0 || v >= splits[i - 1]), lists: summary.lists }).toEqual({
      sorted: true,
      lists: { train: 1200, valid: 150, test: 150 },
    })
  })

  it('counts the history events that have no impression, and drops nothing else', () => {
    expect(Object.keys(summary.dropped)).toEqual(['interaction without a usable impression (history only)'])
  })
})

describe('logs:build on bad logs', () => {
  it('drops a redelivered copy of an object and counts it', async () => {
    const dir = tempDir('log-dup')
    exportWorldLog('data/worlds/default', world, dir, 200)
    const first = logFiles(join(dir, 'log'))[0]
    copyFileSync(first, first.replace('world.ndjson.gz', 'again.ndjson.gz'))
    const s = await buildFromLog({
      log: join(dir, 'log'),
      catalog: readCatalog(join(dir, 'catalog'), WIDTHS),
      out: join(dir, 'built'),
    })
    expect(s.rows.duplicates).toBeGreaterThan(0)
  })

  it('drops an impression that shows an item the catalog lacks, and says why', async () => {
    const dir = tempDir('log-unknown')
    exportWorldLog('data/worlds/default', world, dir, 200)
    const bad = join(dir, 'log', 'log', 'dt=2026-01-01', 'hour=00')
    mkdirSync(bad, { recursive: true })
    const impression = {
      schema: 1,
      event_id: 'odd',
      type: 'impression',
      time: '2026-01-01T00:30:00.000Z',
      received_at: '2026-01-01T00:30:00.000Z',
      user_key: 'x',
      key_version: 'v1',
      session_key: null,
      query: world.queries.meta[0].text,
      candidates: [{ id: 'no-such-item', score: 1 }],
      served: [{ id: 'no-such-item', score: 1 }],
    }
    writeFileSync(join(bad, 'odd.ndjson.gz'), gzipSync(JSON.stringify(impression) + '\n'))
    const s = await buildFromLog({
      log: join(dir, 'log'),
      catalog: readCatalog(join(dir, 'catalog'), WIDTHS),
      out: join(dir, 'built'),
    })
    expect(s.dropped['impression shows an item not in the catalog']).toBe(1)
  })

  it('stops on a folder with no log objects, naming it', async () => {
    const dir = tempDir('log-empty')
    exportWorldLog('data/worlds/default', world, dir, 10)
    const empty = tempDir('log-none')
    await expect(
      buildFromLog({ log: empty, catalog: readCatalog(join(dir, 'catalog'), WIDTHS), out: join(dir, 'built') }),
    ).rejects.toThrow(new LogBuildError(`${empty}: no .ndjson.gz objects (logs:pull writes them)`))
  })

  it('stops on a log with impressions but no interactions', async () => {
    const dir = tempDir('log-noclicks')
    exportWorldLog('data/worlds/default', world, dir, 10)
    const only = join(dir, 'only', 'log', 'dt=2026-01-01', 'hour=00')
    mkdirSync(only, { recursive: true })
    const lines = readFileSync(logFiles(join(dir, 'log')).at(-1)!)
    writeFileSync(
      join(only, 'x.ndjson.gz'),
      gzipSync(
        gunzipSync(lines)
          .toString()
          .split('\n')
          .filter((l: string) => l.includes('"impression"'))
          .join('\n') + '\n',
      ),
    )
    await expect(
      buildFromLog({
        log: join(dir, 'only'),
        catalog: readCatalog(join(dir, 'catalog'), WIDTHS),
        out: join(dir, 'built'),
      }),
    ).rejects.toThrow(/no clicks, add-to-carts or purchases/)
  })
})
