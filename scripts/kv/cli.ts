import { Command } from 'commander'
import { seedKv } from './seed.ts'

const program = new Command('kv:seed')
  .description(
    'Upload the committed embeddings, query embeddings and (synthetic) user histories into Workers KV with `wrangler kv bulk put`.',
  )
  .option('--local', "wrangler's local KV, as `wrangler dev` reads it")
  .option('--remote', 'the deployed namespace bound as EMBEDDINGS')
  .option('--models <dir>', 'release directory with manifest.json and embeddings/', 'models')
  .option('--world <dir>', 'the synthetic world (generated when missing)', 'data/worlds/default')
  .option('--persist-to <dir>', 'local persistence directory (wrangler --persist-to)')
  .parse()

const opts = program.opts<{ local?: boolean; remote?: boolean; models: string; world: string; persistTo?: string }>()
if (Boolean(opts.local) === Boolean(opts.remote)) program.error('say where: --local or --remote')
await seedKv({
  target: opts.local ? 'local' : 'remote',
  models: opts.models,
  world: opts.world,
  persistTo: opts.persistTo,
})
