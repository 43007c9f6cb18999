/**
 * `npm run world:log -- --out DIR [--world data/worlds/default] [--sessions N]`: the SYNTHETIC world as
 * a data set in the training format (docs/data.md): `DIR/catalog/` and `DIR/log/`.
 */
import { Command } from 'commander'
import { positiveInteger } from '../cli-options.ts'
import { exportWorldLog } from './export-log.ts'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { releaseWorld } from './release-world.ts'
import { loadWorld } from './store.ts'

const opts = new Command('world:log')
  .description('the SYNTHETIC world as a catalog and an event log')
  .requiredOption('--out <dir>', 'where the data set goes')
  .option('--world <dir>', 'the world', 'data/worlds/default')
  .option('--sessions <n>', 'only the first N sessions (time order)', positiveInteger)
  .parse()
  .opts<{ out: string; world: string; sessions?: number }>()

// The release's own world is generated when missing; another is read as it is.
const world =
  opts.world === 'data/worlds/default'
    ? releaseWorld({ manifest: readReleaseManifest('models') }, opts.world)
    : loadWorld(opts.world)
const n = exportWorldLog(opts.world, world, opts.out, opts.sessions)
console.log(
  `world:log: ${n.sessions} SYNTHETIC sessions → ${opts.out}/log (${n.impressions} impressions, ${n.events} events, ` +
    `${n.historyEvents} history events before the log, ${n.objects} objects) and ${opts.out}/catalog`,
)
