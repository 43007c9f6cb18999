/** The deploy bundle, as `wrangler deploy --dry-run --outdir` writes it, and its size. */
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { runWrangler } from './wrangler-env.ts'

export interface Bundle {
  dir: string
  /** The entry module's file name (wrangler names it after the entry: index.js, edge-probe.js). */
  main: string
  /** Every module the upload carries (no source map), raw and gzip-9 bytes. */
  files: { name: string; bytes: number; gzip: number }[]
  raw: number
  gzip: number
  /** wrangler's own "Total Upload: … / gzip: …" line. */
  wrangler: string | null
}

/** Builds the worker from `entry` (wrangler.toml's `main` when absent) into `dir`. */
export function buildBundle(dir: string, entry?: string): Bundle {
  rmSync(dir, { recursive: true, force: true })
  const r = runWrangler(['deploy', ...(entry ? [entry] : []), '--dry-run', '--outdir', dir])
  if (r.status !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${r.status}):\n${r.stderr}`)
  const log = r.stdout
  const files = readdirSync(dir)
    .filter((name) => !name.endsWith('.map') && name !== 'README.md')
    .map((name) => {
      const bytes = readFileSync(join(dir, name))
      return { name, bytes: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength }
    })
  const main = files.find((f) => f.name.endsWith('.js'))?.name
  if (!main) throw new Error(`wrangler wrote no .js module into ${dir}`)
  return {
    dir,
    main,
    files,
    raw: files.reduce((a, f) => a + f.bytes, 0),
    gzip: files.reduce((a, f) => a + f.gzip, 0),
    wrangler: /Total Upload:\s*[^\n]+/.exec(log)?.[0] ?? null,
  }
}
