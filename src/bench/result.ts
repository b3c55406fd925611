// The JSON a load run reports: rates, latency distributions, errors by kind, CPU of each process.
import type { LatencySummary } from './stats.js'

/** Throughput and latency of one kind of operation. */
export interface Throughput {
  count: number
  perSecond: number
  latencyMs: LatencySummary
}

/** The result of one `hermod-broker bench` run (also one sample of `npm run bench`). */
export interface RunResult {
  scenario: 'accept' | 'roundtrip' | 'autoanswer'
  /** The broker's API base, e.g. https://127.0.0.1:41234/hermod/rest. */
  target: string
  store?: 'memory' | 'redis'
  /** Measured seconds (after the warm-up), from the first start to the last completion. */
  durationS: number
  connections: number
  /** Fixed rate asked for (open loop); absent: as fast as possible (closed loop). */
  rate?: number
  /** Accepted commands (status 200): per second and accept latency. */
  accepted: Throughput
  /** Complete round trips: accept, device read, answer, callback received. Absent in accept runs. */
  roundTrips?: Throughput
  errors: { total: number, byKind: Record<string, number> }
  /** Fixed-rate runs: operations due but never started (the broker could not keep up). */
  notStarted?: number
  /** Average cores used during the run by the load generator (`client`), the broker and Redis. */
  cpu: Record<string, number | null>
  /**
   * CPU microseconds each process spent per operation (accepted command, or round trip). Less
   * sensitive than rates to other load on the machine: the ratio of two servers' values
   * approximates their throughput ratio when the server is the bottleneck.
   */
  cpuUsPerOperation: Record<string, number | null>
}
