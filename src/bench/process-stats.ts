// CPU time and resident memory of another process, read from /proc (Linux); null elsewhere.
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every mainstream Linux). */
const USER_HZ = 100

/** User + system CPU seconds `pid` has used so far, or null when /proc is unavailable. */
export function processCpuSeconds (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ
  } catch {
    return null
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or null when /proc is unavailable. */
export function processRssBytes (pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? null : Number(match[1]) * 1024
  } catch {
    return null
  }
}

/** `pid` and every process below it (/proc/<pid>/task/<tid>/children), e.g. a broker's front and its broker process. */
export function processTree (pid: number): number[] {
  const all = [pid]
  for (let i = 0; i < all.length; i++) {
    try {
      const tasks = readdirSync(`/proc/${all[i]!}/task`)
      for (const task of tasks) {
        const text = readFileSync(`/proc/${all[i]!}/task/${task}/children`, 'utf8').trim()
        if (text !== '') all.push(...text.split(/\s+/).map(Number))
      }
    } catch {
      // gone meanwhile, or no /proc
    }
  }
  return all
}

/** The sum of a value over `pid`'s process tree; null when it is null for `pid` itself. */
export function overTree (pid: number, read: (pid: number) => number | null): number | null {
  const [first, ...rest] = processTree(pid).map(read)
  if (first === null || first === undefined) return null
  return rest.reduce<number>((sum, value) => sum + (value ?? 0), first)
}

/**
 * CPU seconds of the whole machine so far (/proc/stat): `busy` is user + nice + system, the time
 * processes used (interrupts and softirqs, which loopback traffic causes, are left out); `total`
 * counts idle too. Null off Linux.
 */
export function machineCpuSeconds (): { busy: number, total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: busy / USER_HZ, total: total / USER_HZ }
  } catch {
    return null
  }
}

/** CPU seconds of all of `pids` together, each with the processes below it; null when any is unreadable. */
function groupCpuSeconds (pids: number[]): number | null {
  let sum = 0
  for (const pid of pids) {
    const used = overTree(pid, processCpuSeconds)
    if (used === null) return null
    sum += used
  }
  return sum
}

/**
 * Measures average cores used by this process and by `pids` (each with the processes below it) between `start()` and `stop()`, and
 * by everything else on the machine (`others`: a run that shared the CPUs with other work).
 * A name may stand for several processes (the nodes of a Redis Cluster): their sum is reported.
 */
export class CpuMeter {
  private wall = 0
  private self = process.cpuUsage()
  private machine: { busy: number, total: number } | null = null
  private readonly others = new Map<string, { pids: number[], at: number | null }>()

  constructor (private readonly pids: Record<string, number | number[] | undefined> = {}) {}

  start (): void {
    this.wall = performance.now()
    this.self = process.cpuUsage()
    this.machine = machineCpuSeconds()
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === undefined) continue
      const pids = Array.isArray(pid) ? pid : [pid]
      this.others.set(name, { pids, at: groupCpuSeconds(pids) })
    }
  }

  /**
   * `cores`: average cores used per process (`client` is this one; 1 = one core busy all the time);
   * `cpuSeconds`: CPU seconds used per process. Null where /proc is unavailable.
   */
  stop (): { cores: Record<string, number | null>, cpuSeconds: Record<string, number | null> } {
    const seconds = (performance.now() - this.wall) / 1000
    const used = process.cpuUsage(this.self)
    const cpuSeconds: Record<string, number | null> = { client: (used.user + used.system) / 1e6 }
    for (const [name, { pids, at }] of this.others) {
      const now = groupCpuSeconds(pids)
      cpuSeconds[name] = at === null || now === null ? null : now - at
    }
    const coresUsed = Object.fromEntries(Object.entries(cpuSeconds).map(([name, cpu]) => [name, cpu === null ? null : cores(cpu, seconds)]))
    const machine = machineCpuSeconds()
    if (this.machine !== null && machine !== null && !Object.values(cpuSeconds).includes(null)) {
      const ours = Object.values(cpuSeconds).reduce<number>((sum, cpu) => sum + (cpu ?? 0), 0)
      coresUsed.others = cores(Math.max(0, machine.busy - this.machine.busy - ours), seconds)
    }
    return { cores: coresUsed, cpuSeconds }
  }
}

function cores (cpuSeconds: number, wallSeconds: number): number {
  return wallSeconds <= 0 ? 0 : Math.round((cpuSeconds / wallSeconds) * 100) / 100
}
