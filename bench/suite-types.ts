// The shape of bench/results/latest.json: machine, settings, one entry per row, ratios and targets.
import type { CpuLayout } from '../src/bench/cpu-pinning.js'
import type { RunResult } from '../src/bench/result.js'
import type { ExpiryResult } from './expiry.js'
import type { MachineInfo } from './machine.js'
import type { PendingResult } from './pending.js'
import type { RedisCostResult } from './redis-cost.js'
import type { ScriptTimeResult } from './script-time.js'
import type { WaitingDevicesResult } from './waiting-devices.js'

/** A row that could not be measured (e.g. the Redis store is not in this build yet), or was left out with --only. */
export interface UnavailableRow {
  status: 'unavailable' | 'skipped'
  error: string
}

/** A throughput row: medians over its runs. */
export interface ThroughputRow {
  status: 'ok'
  /** Operations per second, median over the runs (requests, accepted commands or round trips). */
  perSecond: number
  /** p50 / p90 / p99 of the operation's latency, each the median over the runs, ms. */
  latencyMs: { p50: number, p90: number, p99: number }
  /** Round-trip rows: the accept step's latency, medians, ms. */
  acceptLatencyMs?: { p50: number, p90: number, p99: number }
  /** Fixed-rate rows: the rate asked for. */
  rate?: number
  /** Median cores used per process. */
  cpu: Record<string, number | null>
  /** Median CPU microseconds per operation, per process (`server` / `broker`: the server under test). */
  cpuUsPerOperation: Record<string, number | null>
  errors: number
  /** Which runs the medians are over. */
  medianOf: string
  /** Runs during which other processes used more than 0.3 cores (`cpu.others`). */
  disturbedRuns: number
  runs: Array<RunResult & { backgroundCores: number | null }>
}

export type Row<T> = T | UnavailableRow

/** Cores other processes used just before a single-run row started. */
export interface Measured { backgroundCores: number | null }

/** A target of issue 4 and whether this run meets it (null: not measured). */
export interface TargetCheck {
  id: string
  description: string
  value: number | null
  unit: string
  limit: string
  holds: boolean | null
}

export interface SuiteResult {
  version: 1
  quick: boolean
  startedAt: string
  finishedAt: string
  machine: MachineInfo
  settings: {
    runs: number
    durationS: number
    warmupS: number
    /** Warm-up of the fixed-rate (half rate) rows, which measure steady-state latency. */
    fixedRateWarmupS: number
    connections: number
    pendingCommands: number
    expiryCommands: number
    expiryWindowS: number
    tls: string
    brokerOverrides: Record<string, string>
    /** CPUs of each process (taskset lists); null: not pinned. */
    cpuLayout: CpuLayout | null
  }
  rows: {
    ceiling: Row<ThroughputRow>
    acceptMemory: Row<ThroughputRow>
    acceptRedis: Row<ThroughputRow>
    roundTripMemory: Row<ThroughputRow>
    roundTripRedis: Row<ThroughputRow>
    /** Accept -> the broker's own auto-answer (canned) -> callback received: a load test with no external device. */
    autoAnswerMemory: Row<ThroughputRow>
    autoAnswerRedis: Row<ThroughputRow>
    /** The Redis store on the bench's private 6-node Redis Cluster (3 masters, 3 replicas); absent in results from before it existed. */
    acceptCluster?: Row<ThroughputRow>
    roundTripCluster?: Row<ThroughputRow>
    halfRateMemory: Row<ThroughputRow>
    halfRateRedis: Row<ThroughputRow>
    pendingMemory: Row<PendingResult & Measured>
    pendingRedis: Row<PendingResult & Measured>
    expiryMemory: Row<ExpiryResult & Measured>
    expiryRedis: Row<ExpiryResult & Measured>
    /** Redis time of one listing of a named box full of decided messages. */
    listBusyBoxRedis: Row<ScriptTimeResult & Measured>
    /** Redis time of timing out a burst of large commands at once. */
    timeoutBurstRedis: Row<ScriptTimeResult & Measured>
    /** Redis CPU per operation, each operation alone (redis-cost.ts). Absent in results from before it existed. */
    redisCostRedis?: Row<RedisCostResult & Measured>
    /** 10,000 concurrent long polls on one instance (--quick: 2,000): memory per device, wake-up, nothing left. */
    waitingDevicesMemory: Row<WaitingDevicesResult & Measured>
    waitingDevicesRedis: Row<WaitingDevicesResult & Measured>
  }
  /** perSecond / ceiling perSecond for the throughput rows. */
  ratios: Record<string, number | null>
  /**
   * Ceiling server CPU per request / broker CPU per operation: the throughput ratio the two would
   * have if each had a core to itself (less sensitive to other load on the machine than `ratios`).
   */
  cpuRatios: Record<string, number | null>
  /** acceptCluster / acceptRedis and roundTripCluster / roundTripRedis (perSecond) of the same run. */
  clusterRatios?: Record<'acceptCluster' | 'roundTripCluster', number | null>
  targets: TargetCheck[]
}

export type RowName = keyof SuiteResult['rows']
