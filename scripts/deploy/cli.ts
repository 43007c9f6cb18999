/**
 * `npm run deploy`: `wrangler deploy` with the checks a first deploy needs, in the order that keeps
 * every live worker answering:
 *   1. the bundle builds, and fits the plan (its size, and the CPU the worker measured here);
 *   2. the origin is configured (ORIGIN_URL and the ORIGIN_TOKEN secret), or knowingly absent (--no-origin);
 *   3. wrangler is logged in;
 *   4. the EMBEDDINGS namespace exists and is bound (created, and written into wrangler.toml, if not);
 *   5. the event log's queues and bucket exist (created if not), with the bucket's retention rules;
 *   6. the release's records are in it (kv:seed --remote when they are not) — before the worker that reads them;
 *   7. the secrets the worker reads are set (USER_KEY_SECRET, USER_TOKEN_SECRET, ORIGIN_TOKEN);
 *   8. wrangler deploy (the ort build with --ort).
 * `--dry-run` runs step 1 and 2 and prints the rest without touching the account.
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { parse } from 'smol-toml'
import { buildBundle } from '../worker-bundle.ts'
import { ensureSeeded } from '../kv/seed.ts'
import { runWrangler as wrangler } from '../wrangler-env.ts'

const opts = new Command('deploy')
  .description('wrangler deploy, with the checks a first deploy needs')
  .option('--ort', 'deploy the ort build (functions/edge/index-ort.ts, HEAD_BACKEND=ort)')
  .option(
    '--no-origin',
    'deploy without a full-model origin (ORIGIN_URL empty: fallbacks pass the input order through)',
  )
  .option('--dry-run', 'check the bundle and the config, print the account steps, touch nothing')
  .parse()
  .opts<{ ort?: boolean; origin: boolean; dryRun?: boolean }>()

/** Compressed worker size limits (Cloudflare Workers limits). */
const PLAN_LIMIT_BYTES = { free: 3 * 2 ** 20, paid: 10 * 2 ** 20 }

class DeployStop extends Error {}
const stop = (why: string): never => {
  throw new DeployStop(why)
}

const STEPS = 8
const say = (step: number, text: string) => console.log(`deploy ${step}/${STEPS}: ${text}`)

async function main() {
  const config = parse(readFileSync('wrangler.toml', 'utf8')) as {
    vars?: Record<string, string>
    kv_namespaces?: { binding: string; id?: string }[]
    queues?: { consumers?: { queue: string; dead_letter_queue?: string }[] }
    r2_buckets?: { binding: string; bucket_name: string }[]
  }
  const entry = opts.ort ? 'functions/edge/index-ort.ts' : undefined
  const log = eventLogOf(config)

  // 1. the bundle
  const bundle = buildBundle('.wrangler/deploy-dist', entry)
  const plan = bundle.gzip <= PLAN_LIMIT_BYTES.free ? 'Free' : bundle.gzip <= PLAN_LIMIT_BYTES.paid ? 'Paid' : null
  if (!plan) stop(`the bundle is ${(bundle.gzip / 2 ** 20).toFixed(2)} MiB gzip: over the Paid plan's 10 MiB`)
  say(
    1,
    `bundle ${(bundle.raw / 1024).toFixed(0)} KiB, ${(bundle.gzip / 1024).toFixed(0)} KiB gzip: fits the ${plan} plan ` +
      `(the Free plan allows 10 ms of CPU per request: the worker's own time is in docs/edge.md; ` +
      `the release's KV records need the Paid plan's writes: docs/catalog.md)`,
  )

  // 2. the origin
  const originUrl = config.vars?.ORIGIN_URL ?? ''
  if (!originUrl && opts.origin)
    stop(
      'ORIGIN_URL is empty in wrangler.toml: set it to the origin (docs/origin.md), or pass --no-origin to deploy without one',
    )
  say(2, originUrl ? `origin ${originUrl} (its token must be the ORIGIN_TOKEN secret)` : 'no origin (--no-origin)')

  if (opts.dryRun) {
    console.log(`deploy: dry run; the account steps would be:
  3. npx wrangler whoami                                           (logged in, or CLOUDFLARE_API_TOKEN set)
  4. npx wrangler kv namespace create EMBEDDINGS --binding EMBEDDINGS --update-config   (when wrangler.toml binds no id)
${eventLogCommands(log)
  .map((c) => `  5. npx wrangler ${c.join(' ')}`)
  .join('\n')}   (each queue, the bucket and a rule when missing)
  6. npm run kv:seed -- --remote                                   (when the release's marker record is missing)
  7. npx wrangler secret list                                      (USER_KEY_SECRET, USER_TOKEN_SECRET${originUrl ? ', ORIGIN_TOKEN' : ''})
  8. npx wrangler deploy${entry ? ` ${entry} --var HEAD_BACKEND:ort` : ''}`)
    return
  }

  // 3. logged in
  const who = wrangler(['whoami'])
  if (who.status !== 0 || /not authenticated/i.test(who.stdout + who.stderr))
    stop('wrangler is not logged in: run npx wrangler login (or set CLOUDFLARE_API_TOKEN)')
  say(3, 'wrangler is logged in')

  // 4. the namespace
  const bound = config.kv_namespaces?.find((n) => n.binding === 'EMBEDDINGS')
  if (!bound) stop('wrangler.toml binds no EMBEDDINGS namespace')
  if (!bound!.id) {
    const created = wrangler(['kv', 'namespace', 'create', 'EMBEDDINGS', '--binding', 'EMBEDDINGS', '--update-config'])
    if (created.status !== 0) stop(`creating the EMBEDDINGS namespace failed:\n${created.stderr}`)
    say(4, 'created the EMBEDDINGS namespace and wrote its id into wrangler.toml')
  } else say(4, `EMBEDDINGS is namespace ${bound!.id}`)

  // 5. the event log
  say(5, ensureEventLog(log))

  // 6. the records, before the worker that reads them
  const seed = { target: 'remote' as const, models: 'models', world: 'data/worlds/default' }
  if (!process.env.USER_KEY_SECRET)
    stop(
      'USER_KEY_SECRET is not in the environment: kv:seed keys the stored histories with it (docs/operations.md#deploy)',
    )
  // The same check as every start: this release, its histories keyed with this secret.
  const uploaded = await ensureSeeded(seed)
  say(6, uploaded ? 'uploaded the release into KV' : 'the release is already in KV')

  // 7. secrets
  const listed = wrangler(['secret', 'list', '--format', 'json'])
  const names = listed.status === 0 ? (JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name) : []
  const missing = ['USER_KEY_SECRET', 'USER_TOKEN_SECRET', ...(originUrl ? ['ORIGIN_TOKEN'] : [])].filter(
    (n) => !names.includes(n),
  )
  if (missing.includes('ORIGIN_TOKEN'))
    stop('ORIGIN_URL is set but the ORIGIN_TOKEN secret is not: npx wrangler secret put ORIGIN_TOKEN')
  if (missing.length)
    console.log(
      `deploy 7/${STEPS}: not set: ${missing.join(', ')} (requests naming a user id get no personalization until they are)`,
    )
  else say(7, 'secrets set')

  // 8. deploy
  const deployed = wrangler(['deploy', ...(entry ? [entry, '--var', 'HEAD_BACKEND:ort'] : [])], 'inherit')
  if (deployed.status !== 0) stop(`wrangler deploy failed (exit ${deployed.status})`)
  say(8, 'deployed')
}

/** The event log's parts as wrangler.toml declares them. */
interface EventLogParts {
  queues: string[]
  bucket: string
  retentionDays: number
}

function eventLogOf(config: {
  vars?: Record<string, string>
  queues?: { consumers?: { queue: string; dead_letter_queue?: string }[] }
  r2_buckets?: { binding: string; bucket_name: string }[]
}): EventLogParts {
  const queues = new Set<string>()
  for (const c of config.queues?.consumers ?? []) {
    queues.add(c.queue)
    if (c.dead_letter_queue) queues.add(c.dead_letter_queue)
  }
  const bucket = config.r2_buckets?.find((b) => b.binding === 'EVENT_LOG')?.bucket_name
  if (!bucket || !queues.size)
    stop('wrangler.toml declares no event log (the EVENT_LOG bucket and its queues: docs/events.md)')
  return { queues: [...queues], bucket: bucket!, retentionDays: Number(config.vars?.LOG_RETENTION_DAYS ?? 90) }
}

/** What creating the event log takes: each queue, the bucket, and a lifecycle rule per prefix. */
function eventLogCommands({ queues, bucket, retentionDays }: EventLogParts): string[][] {
  return [
    ...queues.map((q) => ['queues', 'create', q]),
    ['r2', 'bucket', 'create', bucket],
    ...['log/', 'dead/'].map((prefix) => [
      'r2',
      'bucket',
      'lifecycle',
      'add',
      bucket,
      `expire-${prefix.slice(0, -1)}`,
      prefix,
      '--expire-days',
      String(retentionDays),
      '-y',
    ]),
  ]
}

/** Creates what is missing of the event log; says what it found and did. */
function ensureEventLog(log: EventLogParts): string {
  const done: string[] = []
  for (const q of log.queues)
    if (wrangler(['queues', 'info', q]).status !== 0) {
      const r = wrangler(['queues', 'create', q])
      if (r.status !== 0) stop(`creating the queue ${q} failed:\n${r.stderr}`)
      done.push(`created queue ${q}`)
    }
  if (wrangler(['r2', 'bucket', 'info', log.bucket]).status !== 0) {
    const r = wrangler(['r2', 'bucket', 'create', log.bucket])
    if (r.status !== 0) stop(`creating the bucket ${log.bucket} failed:\n${r.stderr}`)
    done.push(`created bucket ${log.bucket}`)
  }
  const rules = wrangler(['r2', 'bucket', 'lifecycle', 'list', log.bucket]).stdout
  for (const cmd of eventLogCommands(log).filter((c) => c[2] === 'lifecycle'))
    if (!rules.includes(cmd[5])) {
      const r = wrangler(cmd)
      if (r.status !== 0) stop(`adding the lifecycle rule ${cmd[5]} failed:\n${r.stderr}`)
      done.push(`added rule ${cmd[5]} (${log.retentionDays} days)`)
    }
  return `event log: queues ${log.queues.join(', ')}, bucket ${log.bucket}${done.length ? `; ${done.join(', ')}` : ', all there'}`
}

try {
  await main()
} catch (e) {
  if (!(e instanceof DeployStop)) throw e
  console.error(`deploy: stopped: ${e.message}`)
  process.exit(1)
}
