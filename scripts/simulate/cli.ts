/**
 * `npm run simulate -- --edge URL --sessions N [--concurrency C] [--seed S] [--split test] [--out FILE] [--record FILE]`:
 * SYNTHETIC shoppers of the world in data/worlds/default search a running edge (`npm start`'s, or any
 * URL), click and buy by the world's choice model, and report their events (docs/events.md).
 * Shoppers sign in as the world's users when USER_TOKEN_SECRET is known (the environment, or the
 * `.dev.vars` npm start wrote), so their stored histories grow from their events; otherwise they send
 * their histories themselves.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { DEV_VARS } from '../dev-vars.ts'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { releaseWorld } from '../world/release-world.ts'
import { SPLITS, type Split } from '../world/world.ts'
import { ShopperWorld } from './shopper.ts'
import { simulate } from './simulate.ts'
import { nonNegativeInteger, positiveInteger } from '../cli-options.ts'

const opts = new Command('simulate')
  .description('SYNTHETIC shoppers against a running edge: searches, clicks, purchases, events')
  .requiredOption('--edge <url>', "the edge's base URL, e.g. http://127.0.0.1:8787")
  .option('--sessions <n>', 'sessions to shop', positiveInteger, 100)
  .option('--concurrency <c>', 'sessions at once', positiveInteger, 8)
  .option('--seed <s>', 'which sessions, and what the shoppers draw', nonNegativeInteger, 1)
  .option('--split <split>', `only sessions of one split (${SPLITS.join(', ')})`)
  .option('--world <dir>', 'the world the shoppers live in', 'data/worlds/default')
  .option('--out <file>', 'the summary as JSON')
  .option('--record <file>', 'every answer and event sent, as NDJSON')
  .parse()
  .opts<{
    edge: string
    sessions: number
    concurrency: number
    seed: number
    split?: string
    world: string
    out?: string
    record?: string
  }>()

function fail(message: string): never {
  console.error(`simulate: ${message}`)
  process.exit(1)
}

if (opts.split !== undefined && !SPLITS.includes(opts.split as Split))
  fail(`--split must be one of ${SPLITS.join(', ')} (got "${opts.split}")`)

/** USER_TOKEN_SECRET from the environment, or from the `.dev.vars` npm start wrote. */
function userTokenSecret(): string | undefined {
  if (process.env.USER_TOKEN_SECRET) return process.env.USER_TOKEN_SECRET
  if (!existsSync(DEV_VARS)) return undefined
  const line = readFileSync(DEV_VARS, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('USER_TOKEN_SECRET='))
  return line?.slice('USER_TOKEN_SECRET='.length) || undefined
}

let world: ShopperWorld
try {
  // The release's own world (generated when missing): the edge's records describe its items.
  world = new ShopperWorld(releaseWorld({ manifest: readReleaseManifest('models') }, opts.world))
} catch (e) {
  fail(`cannot read the world in ${opts.world} (npm run world makes it): ${e instanceof Error ? e.message : String(e)}`)
}
const secret = userTokenSecret()
console.log(
  `simulate: ${opts.sessions} SYNTHETIC sessions against ${opts.edge}, ${opts.concurrency} at once, ` +
    (secret
      ? 'shoppers signed in as the world’s users'
      : 'shoppers sending their own histories (no USER_TOKEN_SECRET)'),
)
const step = Math.max(1, Math.floor(opts.sessions / 10))
const summary = await simulate(world, {
  ...opts,
  split: opts.split as Split | undefined,
  userTokenSecret: secret,
  progress: (done) => done % step === 0 && console.log(`simulate: ${done}/${opts.sessions} sessions`),
})
console.log(JSON.stringify(summary, null, 2))
if (opts.out) writeFileSync(opts.out, JSON.stringify(summary, null, 2) + '\n')
if (summary.answers === 0) fail(`no answer came back from ${opts.edge}: is the edge running (npm start)?`)
