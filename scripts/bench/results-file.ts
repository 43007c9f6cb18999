/** What every benchmark's results file opens with, and the writing of it (data/bench/*.json). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'

export interface BenchHeader {
  synthetic: true
  when: string
  node: string
  cpus: number
  /** The 1-minute load average as the runs began: other work on the machine. */
  load_before: number
}

/** Call as the runs begin: the load average it takes is the machine's before the benchmark. */
export function benchHeader(): () => BenchHeader {
  const loadBefore = loadavg()[0]
  return () => ({
    synthetic: true,
    when: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    load_before: loadBefore,
  })
}

/** Writes `results` (header first) as indented JSON, making the folder. */
export function writeBenchResults(path: string, results: object): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n')
}
