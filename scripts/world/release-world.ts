/**
 * The SYNTHETIC world a release was trained on, generated if missing and checked to be that world
 * (functions/release/release.ts `checkReleaseWorld`): whole, for the KV records, or as what the
 * origin serves (functions/origin/service.ts `OriginRelease`).
 */
import { OriginCatalog } from '../../functions/origin/catalog.ts'
import type { OriginRelease } from '../../functions/origin/service.ts'
import { checkReleaseWorld, readReleaseManifest, type Release } from '../../functions/release/release.ts'
import { SyntheticQueryEncoder } from '../../functions/text-encoder/query-encoder.ts'
import { provideWorld } from './ensure.ts'
import { loadCatalog, loadWorld } from './store.ts'
import type { World } from './world.ts'

/**
 * The world release `r` was trained on, in `dir`: item records pair the release's vectors with
 * this world's catalog prices, so any other world is refused.
 *
 * @example
 * const world = releaseWorld(readRelease('models'), 'data/worlds/default')
 */
export function releaseWorld(r: Pick<Release, 'manifest'>, dir: string): World {
  checkReleaseWorld(r.manifest, dir, provideWorld)
  return loadWorld(dir)
}

/**
 * The release in `modelsDir` as the origin serves it: its manifest, the catalog of its world in
 * `worldDir`, and that world's own text encoder as the query encoder.
 *
 * @example
 * const origin = await launchOrigin(config, syntheticOriginRelease('models', 'data/worlds/default'))
 */
export function syntheticOriginRelease(modelsDir: string, worldDir: string): OriginRelease {
  const manifest = readReleaseManifest(modelsDir)
  checkReleaseWorld(manifest, worldDir, provideWorld)
  const { manifest: world, arrays } = loadCatalog(worldDir)
  const encoder = new SyntheticQueryEncoder({
    seed: world.seed,
    categories: world.config.categories,
    brandsPerCategory: world.config.brandsPerCategory,
    textDim: world.config.textDim,
  })
  return { manifest, catalog: new OriginCatalog(arrays), encoder }
}
