/**
 * CPU time of process trees, from Linux's /proc: what a measured run cost the processes doing the
 * work. Wall time on a busy 2-core machine also counts the other processes' turns; CPU time does
 * not (though they still slow it through shared caches). Ticks are 10 ms, so these suit runs of
 * seconds. NaN off Linux.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICK_MS = 10 // USER_HZ is 100 on Linux

interface ProcStat {
  pid: number
  comm: string
  ppid: number
  /** utime + stime, in ticks. */
  ticks: number
}

function readStat(pid: string): ProcStat | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // gone meanwhile
  }
  // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {
    pid: Number(pid),
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
  }
}

function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(readStat)
    .filter((s): s is ProcStat => s !== undefined)
}

/** The processes under `root` (itself included), with `comm` equal to `name` when one is given. */
function treeTicks(root: number, name?: string): number {
  const stats = allProcesses()
  const parent = new Map(stats.map((s) => [s.pid, s.ppid]))
  const under = (pid: number) => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true
    return false
  }
  return stats.filter((s) => under(s.pid) && (name === undefined || s.comm === name)).reduce((a, s) => a + s.ticks, 0)
}

/** Milliseconds of user + system CPU used by process `pid` and everything under it. */
export function groupCpuMs(pid: number): number {
  return process.platform === 'linux' ? treeTicks(pid) * TICK_MS : NaN
}

/** Milliseconds of user + system CPU used by the workerd processes under this one (Miniflare's). */
export function workerdCpuMs(): number {
  return process.platform === 'linux' ? treeTicks(process.pid, 'workerd') * TICK_MS : NaN
}
