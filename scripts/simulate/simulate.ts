/**
 * `simulate`: SYNTHETIC shoppers against a running edge. Each session searches through the typed
 * client (`rerank`), acts on the answer as displayed (shopper.ts), and reports what it did through
 * `track`. The simulator keeps its own record of what it sent — every answer id and every event —
 * so the log in R2 can be checked against it (docs/events.md).
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import { rerank, track, type TrackEvent } from '../../functions/client/rerank-client.ts'
import { signUserToken } from '../../functions/shared/user-token.ts'
import { percentile } from '../bench/stats.ts'
import { SPLITS, type Split } from '../world/world.ts'
import { ShopperWorld, type ShopperSession } from './shopper.ts'

export interface SimulateOptions {
  edge: string
  sessions: number
  concurrency: number
  seed: number
  /** Only sessions of this split (e.g. `test`: never shop as a training user). */
  split?: Split
  /** Signs the world's user ids (the edge's USER_TOKEN_SECRET); without it shoppers send their history themselves. */
  userTokenSecret?: string
  /** NDJSON of every answer and event sent. */
  record?: string
  /** Called after each session. */
  progress?: (done: number) => void
}

export interface SimulateSummary {
  synthetic: true
  edge: string
  seed: number
  split: Split | 'all'
  identity: 'user_id' | 'history'
  sessions: number
  /** Answers received with an answer id (re-ranked, passed through or cached: each one an impression). */
  answers: number
  /** Answers that were not the edge's or the origin's ranking (the client's or the edge's passthrough). */
  passthrough: number
  events_sent: number
  events_failed: number
  clicks: number
  purchases: number
  /** Clicks per answer. */
  ctr: number
  purchases_per_session: number
  /** 95 % interval of purchases per session, with users as the unit (a ratio estimator over users). */
  purchases_per_session_ci95: [number, number]
  /** Distinct users among the sessions. */
  users: number
  latency_ms_p50: number
  latency_ms_p99: number
  seconds: number
}

/** The sessions to shop, drawn with the seed from the chosen split. */
function drawSessions(world: ShopperWorld, n: number, seed: number, split?: Split): number[] {
  const { table, count } = world.world.sessions
  const pool: number[] = []
  const want = split === undefined ? -1 : SPLITS.indexOf(split)
  for (let s = 0; s < count; s++) if (want < 0 || table[s * 4 + 2] === want) pool.push(s)
  if (!pool.length) throw new Error(`simulate: the world has no ${split} sessions`)
  const rng = xoroshiro128plus(seed)
  return Array.from({ length: n }, () => pool[uniformInt(rng, 0, pool.length - 1)])
}

interface Tally {
  /** Per user: sessions shopped and purchases made. */
  byUser: Map<string, { sessions: number; purchases: number }>
  answers: number
  passthrough: number
  sent: number
  failed: number
  clicks: number
  purchases: number
  latency: number[]
}

async function shopOnce(
  world: ShopperWorld,
  s: ShopperSession,
  n: number,
  opts: SimulateOptions,
  tally: Tally,
  record: WriteStream | undefined,
) {
  const userId = world.world.users.meta[s.user].id
  const mine = tally.byUser.get(userId) ?? { sessions: 0, purchases: 0 }
  tally.byUser.set(userId, mine)
  mine.sessions++
  const history = Array.from(
    world.world.users.history.subarray(
      s.user * world.world.config.historyMax,
      (s.user + 1) * world.world.config.historyMax,
    ),
  )
    .filter((i) => i >= 0)
    .map((i) => world.world.items.meta[i].id)
  const session = `sim-${opts.seed}-${n}`
  const token = opts.userTokenSecret ? await signUserToken(opts.userTokenSecret, userId) : undefined
  const user = token ? { id: userId, session } : { session, ...(history.length ? { history } : {}) }
  const started = performance.now()
  const answer = await rerank(
    opts.edge,
    { query: world.world.queries.meta[s.query].text, candidates: s.candidates, user },
    { timeoutMs: 5000, userToken: token },
  )
  tally.latency.push(performance.now() - started)
  if (!answer.answer_id) {
    tally.passthrough++
    return
  }
  tally.answers++
  if (answer.path === 'passthrough') tally.passthrough++
  const rng = xoroshiro128plus(opts.seed * 1_000_003 + n)
  const actions = world.act(
    s,
    answer.items.map((i) => i.id),
    rng,
  )
  const events: TrackEvent[] = actions.map((a) => ({
    event_id: crypto.randomUUID(),
    type: a.type,
    answer_id: answer.answer_id!,
    item_id: a.itemId,
    position: a.position,
    time: new Date().toISOString(),
    ...(a.type === 'purchase' ? { quantity: 1, value: Math.round(a.value! * 100) / 100 } : {}),
  }))
  record?.write(
    JSON.stringify({ kind: 'answer', answer_id: answer.answer_id, session: s.index, user: userId, path: answer.path }) +
      '\n',
  )
  if (!events.length) return
  const sent = await track(opts.edge, events, {
    beacon: null,
    user: token ? { id: userId, token, session } : { session },
  })
  tally.sent += sent.sent
  tally.failed += sent.failed
  for (const e of events) {
    if (e.type === 'click') tally.clicks++
    else (tally.purchases++, mine.purchases++)
    record?.write(JSON.stringify({ kind: 'event', ...e, delivered: sent.failed === 0 }) + '\n')
  }
}

/**
 * A 95 % normal interval of Σ purchases / Σ sessions with users as the unit: a user's sessions are
 * not independent draws, so the variance is the ratio estimator's over users (the delta method).
 */
export function ratioInterval(users: { sessions: number; purchases: number }[]): [number, number] {
  const n = users.length
  const sessions = users.reduce((a, u) => a + u.sessions, 0)
  if (n < 2 || sessions === 0) return [Number.NaN, Number.NaN]
  const r = users.reduce((a, u) => a + u.purchases, 0) / sessions
  const meanSessions = sessions / n
  const residual = users.reduce((a, u) => a + (u.purchases - r * u.sessions) ** 2, 0) / (n - 1)
  const se = Math.sqrt(residual / n) / meanSessions
  return [r - 1.96 * se, r + 1.96 * se]
}

export async function simulate(world: ShopperWorld, opts: SimulateOptions): Promise<SimulateSummary> {
  const sessions = drawSessions(world, opts.sessions, opts.seed, opts.split)
  const record = opts.record ? createWriteStream(opts.record) : undefined
  const tally: Tally = {
    byUser: new Map(),
    answers: 0,
    passthrough: 0,
    sent: 0,
    failed: 0,
    clicks: 0,
    purchases: 0,
    latency: [],
  }
  const started = performance.now()
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < sessions.length) {
      const n = next++
      await shopOnce(world, world.session(sessions[n]), n, opts, tally, record)
      opts.progress?.(++done)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker))
  if (record) await new Promise((resolve) => record.end(resolve))
  return {
    synthetic: true,
    edge: opts.edge,
    seed: opts.seed,
    split: opts.split ?? 'all',
    identity: opts.userTokenSecret ? 'user_id' : 'history',
    sessions: sessions.length,
    answers: tally.answers,
    passthrough: tally.passthrough,
    events_sent: tally.sent,
    events_failed: tally.failed,
    clicks: tally.clicks,
    purchases: tally.purchases,
    ctr: tally.answers ? tally.clicks / tally.answers : 0,
    purchases_per_session: sessions.length ? tally.purchases / sessions.length : 0,
    purchases_per_session_ci95: ratioInterval([...tally.byUser.values()]),
    users: tally.byUser.size,
    latency_ms_p50: percentile(tally.latency, 50),
    latency_ms_p99: percentile(tally.latency, 99),
    seconds: (performance.now() - started) / 1000,
  }
}
