// Memory per pending command: Redis used_memory and broker RSS before and after N commands that stay IN_PROGRESS.
import { setTimeout as sleep } from 'node:timers/promises'
import { startBrokerProcess } from '../src/bench/broker-process.js'
import { HermodApi, SIGN_PAYLOAD_BYTES, signCommandBody } from '../src/bench/hermod-api.js'
import { BenchClient, errorKind } from '../src/bench/http-client.js'
import { runLoop } from '../src/bench/loop.js'
import { CpuMeter } from '../src/bench/process-stats.js'
import type { PrivateRedis } from '../src/bench/redis-server.js'
import { ErrorCounter, round } from '../src/bench/stats.js'

/** What a pending-memory measurement found. */
export interface PendingResult {
  status: 'ok'
  store: 'memory' | 'redis'
  commands: number
  /** Bytes of the stored payload of each command (the body without commandHeader). */
  payloadBytes: number
  /** Redis `used_memory` delta / commands (Redis store). */
  redisBytesPerCommand?: number | null
  /** The same minus the payload: what the store adds per command. */
  redisOverheadBytesPerCommand?: number | null
  /** Broker RSS delta scaled to 100k commands. */
  rssBytesPer100k: number | null
  rssBeforeBytes: number | null
  rssAfterBytes: number | null
  acceptSeconds: number
  errors: { total: number, byKind: Record<string, number> }
  /** Average cores used while it ran: load generator, broker, Redis and `others` (everything else). */
  cpu: Record<string, number | null>
}

/** Options: the store, a private Redis for the Redis store, how many commands. */
export interface PendingOptions {
  store: 'memory' | 'redis'
  redis?: PrivateRedis
  commands: number
  connections: number
  overrides?: Record<string, string>
  /** CPUs for the broker process (cpu-pinning.ts). */
  cpus?: string
}

/** Starts a fresh broker, posts `commands` sign commands with a one-hour timeout, and measures the growth. */
export async function measurePending (options: PendingOptions): Promise<PendingResult> {
  await options.redis?.flushAll()
  const broker = await startBrokerProcess({
    store: options.store,
    ...(options.redis === undefined ? {} : { redisUrl: options.redis.url }),
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    ...(options.overrides === undefined ? {} : { overrides: options.overrides })
  })
  const client = new BenchClient({ origin: broker.target.origin, connections: options.connections })
  try {
    const api = new HermodApi(client, broker.target)
    const body = signCommandBody(3600, 3600)
    const errors = new ErrorCounter()
    let accepted = 0
    // Warm the connections and the code first, so the baseline is taken with everything loaded.
    await runLoop(async () => { await api.acceptOnly(body).catch(() => {}) }, {
      concurrency: options.connections,
      maxOperations: 1000,
      durationMs: 30_000
    })
    await sleep(1500)
    const rssBefore = broker.rssBytes()
    const usedBefore = options.redis === undefined ? undefined : await options.redis.usedMemory()
    const meter = new CpuMeter({ broker: broker.pid, redis: options.redis?.pid })
    meter.start()
    const loop = await runLoop(async () => {
      try {
        await api.acceptOnly(body)
        accepted++
      } catch (err) {
        errors.add(errorKind(err))
      }
    }, { concurrency: options.connections, maxOperations: options.commands, durationMs: 600_000 })
    await sleep(2000)
    const { cores } = meter.stop()
    const rssAfter = broker.rssBytes()
    const usedAfter = options.redis === undefined ? undefined : await options.redis.usedMemory()
    const result: PendingResult = {
      status: 'ok',
      store: options.store,
      commands: accepted,
      payloadBytes: SIGN_PAYLOAD_BYTES,
      rssBytesPer100k: rssBefore === null || rssAfter === null || accepted === 0
        ? null
        : Math.round((rssAfter - rssBefore) * 100_000 / accepted),
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      acceptSeconds: round(loop.elapsedMs / 1000, 1) ?? 0,
      errors: errors.toJSON(),
      cpu: cores
    }
    if (usedBefore !== undefined && usedAfter !== undefined && accepted > 0) {
      const perCommand = (usedAfter - usedBefore) / accepted
      result.redisBytesPerCommand = Math.round(perCommand)
      result.redisOverheadBytesPerCommand = Math.round(perCommand - SIGN_PAYLOAD_BYTES)
    }
    return result
  } finally {
    await client.close()
    await broker.stop()
  }
}
