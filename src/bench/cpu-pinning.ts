// Which CPUs the bench's processes run on: on a small machine the scheduler otherwise often stacks client and server on one core.
import { spawnSync } from 'node:child_process'
import { cpus } from 'node:os'

/** CPU lists (taskset syntax) for the load generator, the server under test and Redis. */
export interface CpuLayout {
  client: string
  server: string
  redis: string
}

/**
 * The layout on this machine, or null when pinning is impossible (one CPU, no taskset, not Linux).
 * Two CPUs: client and Redis on 0, the server alone on 1. More: client 0, Redis 1, server 2 and up.
 */
export function cpuLayout (count = cpus().length): CpuLayout | null {
  if (count < 2 || process.platform !== 'linux') return null
  if (spawnSync('taskset', ['-V'], { encoding: 'utf8' }).status !== 0) return null
  if (count === 2) return { client: '0', server: '1', redis: '0' }
  return { client: '0', server: count === 3 ? '2' : `2-${count - 1}`, redis: '1' }
}

/** Pins every thread of this process to `list` (taskset -a -cp). Returns false when that failed. */
export function pinSelf (list: string): boolean {
  return spawnSync('taskset', ['-a', '-cp', list, String(process.pid)], { encoding: 'utf8' }).status === 0
}

/** The command and arguments that run `command args...` on the CPUs in `list` (unchanged without a list). */
export function pinnedCommand (list: string | undefined, command: string, args: string[]): { command: string, args: string[] } {
  return list === undefined ? { command, args } : { command: 'taskset', args: ['-c', list, command, ...args] }
}
