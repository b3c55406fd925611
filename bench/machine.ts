// Where a bench ran: CPU, memory, OS, Node and Redis versions, and how busy the machine was apart from the bench.
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { machineCpuSeconds } from '../src/bench/process-stats.js'
import { redisServerVersion } from '../src/bench/redis-server.js'

/** The machine, as the result JSON and the README table name it. */
export interface MachineInfo {
  cpus: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  redis: string | null
  loadAverage: number[]
}

export function machineInfo (): MachineInfo {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    os: `${type()} ${release()} ${process.arch}`,
    node: process.version,
    redis: redisServerVersion(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100)
  }
}

/** Cores busy over `ms` (from /proc/stat): what other processes take while the bench is idle. Null off Linux. */
export async function backgroundCores (ms = 1000): Promise<number | null> {
  const before = machineCpuSeconds()
  await sleep(ms)
  const after = machineCpuSeconds()
  if (before === null || after === null || after.total === before.total) return null
  return Math.round((after.busy - before.busy) / (after.total - before.total) * cpus().length * 100) / 100
}

/**
 * Waits until other processes use at most `threshold` cores (sampled each second), for at most
 * `maxWaitMs`; returns the last sample. A shared machine is noted in the result, not hidden.
 */
export async function waitForQuiet (threshold: number, maxWaitMs: number): Promise<number | null> {
  const deadline = Date.now() + maxWaitMs
  let cores = await backgroundCores(1000)
  while (cores !== null && cores > threshold && Date.now() < deadline) cores = await backgroundCores(1000)
  return cores
}
