// Expiry precision: N commands whose deadlines fall within one window, then deadline -> TIMEOUT callback delay per command.
import { setTimeout as sleep } from 'node:timers/promises'
import { startBrokerProcess } from '../src/bench/broker-process.js'
import { HermodApi, signCommandBody } from '../src/bench/hermod-api.js'
import { BenchClient, errorKind } from '../src/bench/http-client.js'
import { runLoop } from '../src/bench/loop.js'
import { CpuMeter } from '../src/bench/process-stats.js'
import { startReceiver, type ReceivedCallback } from '../src/bench/receiver.js'
import type { PrivateRedis } from '../src/bench/redis-server.js'
import { ErrorCounter, LatencyRecorder, round, type LatencySummary } from '../src/bench/stats.js'

/** Options: the store, how many commands, when their deadlines fall. */
export interface ExpiryOptions {
  store: 'memory' | 'redis'
  redis?: PrivateRedis
  commands: number
  /**
   * Deadlines are spread evenly over this many seconds: the accepts are paced at commands / windowS
   * per second, each with the same timeout, so the deadlines follow at the same even pace.
   */
  windowS: number
  /** Wait this long after the last deadline for stragglers, s. */
  graceS: number
  connections: number
  overrides?: Record<string, string>
  /** CPUs for the broker process (cpu-pinning.ts). */
  cpus?: string
}

/** What an expiry measurement found. */
export interface ExpiryResult {
  status: 'ok'
  store: 'memory' | 'redis'
  commands: number
  /** TIMEOUT callbacks received for them (each once; duplicates counted apart). */
  received: number
  duplicates: number
  /** Callbacks in another state than TIMEOUT (none expected). */
  otherStates: number
  /** Seconds between the first and the last deadline. */
  deadlineSpanS: number | null
  acceptSeconds: number
  /** Every command's timeout, s: the accepts (windowS long) are over before the first deadline. */
  timeoutS: number
  /** Deadline (createdAt + timeout) to the callback's arrival at the receiver. */
  delayMs: LatencySummary
  /** Deadline to the command's finishedAt (the sweeper's part of the delay). */
  sweepDelayMs: LatencySummary
  errors: { total: number, byKind: Record<string, number> }
  /** Average cores used while it ran: load generator, broker, Redis and `others` (everything else). */
  cpu: Record<string, number | null>
}

/**
 * Posts `commands` sign commands at an even pace over `windowS` seconds, all with the timeout
 * windowS + 5 s, so that their deadlines fall evenly over a window of the same length that starts
 * after the last accept; answers none, and measures when each TIMEOUT callback arrives. (Timeouts
 * are whole seconds: giving each command its own timeout instead bunches the deadlines at the accept
 * rate, in bursts with gaps between them.) Bounded: it stops waiting `graceS` after the last deadline.
 */
export async function measureExpiry (options: ExpiryOptions): Promise<ExpiryResult> {
  await options.redis?.flushAll()
  const callbacks: ReceivedCallback[] = []
  const receiver = await startReceiver({ parseBodies: true, onCallback: (cb) => callbacks.push(cb) })
  const broker = await startBrokerProcess({
    store: options.store,
    ...(options.redis === undefined ? {} : { redisUrl: options.redis.url }),
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    callbackUrl: receiver.url,
    overrides: { 'broker.callbacks.concurrency': '256', 'broker.callbacks.per-client-concurrency': '256', ...options.overrides }
  })
  const client = new BenchClient({ origin: broker.target.origin, connections: options.connections })
  try {
    const api = new HermodApi(client, broker.target)
    const errors = new ErrorCounter()
    const timeouts = new Map<string, number>()
    const meter = new CpuMeter({ broker: broker.pid, redis: options.redis?.pid })
    meter.start()
    const start = Date.now()
    const timeout = options.windowS + 5
    const body = signCommandBody(timeout, timeout + 120)
    const loop = await runLoop(async () => {
      try {
        const accepted = await api.accept(body)
        timeouts.set(accepted.commandId, timeout)
      } catch (err) {
        errors.add(errorKind(err))
      }
    }, {
      concurrency: options.connections,
      maxOperations: options.commands,
      durationMs: options.windowS * 1000 + 2000,
      rate: options.commands / options.windowS
    })
    const waitUntil = start + (timeout + options.windowS + options.graceS) * 1000
    while (Date.now() < waitUntil && callbacks.length < timeouts.size) await sleep(250)
    const { cores } = meter.stop()

    const delay = new LatencyRecorder()
    const sweep = new LatencyRecorder()
    const seen = new Set<string>()
    let duplicates = 0
    let otherStates = 0
    let first = Infinity
    let last = -Infinity
    for (const cb of callbacks) {
      const timeout = timeouts.get(cb.commandId)
      if (timeout === undefined) continue
      if (cb.state !== 'TIMEOUT') { otherStates++; continue }
      if (seen.has(cb.commandId)) { duplicates++; continue }
      seen.add(cb.commandId)
      const deadline = cb.createdAt + timeout * 1000
      first = Math.min(first, deadline)
      last = Math.max(last, deadline)
      delay.record(cb.receivedAt - deadline)
      if (cb.finishedAt !== undefined) sweep.record(cb.finishedAt - deadline)
    }
    return {
      status: 'ok',
      store: options.store,
      commands: timeouts.size,
      received: seen.size,
      duplicates,
      otherStates,
      deadlineSpanS: seen.size === 0 ? null : round((last - first) / 1000, 1),
      acceptSeconds: round(loop.elapsedMs / 1000, 1) ?? 0,
      timeoutS: timeout,
      delayMs: delay.summary(),
      sweepDelayMs: sweep.summary(),
      errors: errors.toJSON(),
      cpu: cores
    }
  } finally {
    await client.close()
    await broker.stop()
    await receiver.close()
  }
}
