/**
 * `npm run logs:pull -- --local|--remote --out DIR`: the event log out of R2 (docs/events.md).
 *   --local   wrangler's local bucket, what `npm start` wrote (.wrangler/state, or --persist-to)
 *   --remote  the deployed bucket, through R2's S3 API: CLOUDFLARE_ACCOUNT_ID, R2_ACCESS_KEY_ID and
 *             R2_SECRET_ACCESS_KEY (an R2 API token, dashboard → R2 → Manage API tokens)
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { parse } from 'smol-toml'
import { localLogSource, remoteLogSource, type LogSource } from './log-source.ts'
import { pullLog } from './pull.ts'

const opts = new Command('logs:pull')
  .description('copy the event log out of R2 into a folder')
  .option('--local', "wrangler's local R2 (what npm start wrote)")
  .option('--remote', 'the deployed bucket, through the S3 API')
  .option('--persist-to <dir>', 'local persistence directory (wrangler --persist-to)', '.wrangler/state')
  .requiredOption('--out <dir>', 'where the log goes (object keys become paths)')
  .parse()
  .opts<{ local?: boolean; remote?: boolean; persistTo: string; out: string }>()

function fail(message: string): never {
  console.error(`logs:pull: ${message}`)
  process.exit(1)
}

/** The EVENT_LOG bucket's name, as wrangler.toml declares it. */
function bucketName(): string {
  const config = parse(readFileSync('wrangler.toml', 'utf8')) as {
    r2_buckets?: { binding: string; bucket_name: string }[]
  }
  return (
    config.r2_buckets?.find((b) => b.binding === 'EVENT_LOG')?.bucket_name ??
    fail('wrangler.toml binds no EVENT_LOG bucket')
  )
}

async function source(): Promise<LogSource> {
  if (opts.local === opts.remote) fail('say where from: --local or --remote')
  if (opts.local) return localLogSource(bucketName(), opts.persistTo)
  const env = (name: string) => process.env[name] || fail(`--remote needs ${name} in the environment (docs/events.md)`)
  return remoteLogSource(bucketName(), {
    accountId: env('CLOUDFLARE_ACCOUNT_ID'),
    accessKeyId: env('R2_ACCESS_KEY_ID'),
    secretAccessKey: env('R2_SECRET_ACCESS_KEY'),
  })
}

const src = await source()
try {
  const s = await pullLog(src, opts.out)
  const types = Object.entries(s.records.byType)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ')
  console.log(
    `logs:pull: ${s.fetched} objects fetched, ${s.kept} already there → ${opts.out} ` +
      `(log/ ${s.objects.log}, dead/ ${s.objects.dead}): ${s.records.distinct} records (${types || 'none'}), ` +
      `${s.records.duplicates} duplicates${s.records.dead ? `, ${s.records.dead} dead-lettered` : ''}; summary in ${opts.out}/pull.json`,
  )
} catch (e) {
  fail(e instanceof Error ? e.message : String(e))
} finally {
  await src.close()
}
