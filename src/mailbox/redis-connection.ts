// The Redis store's plumbing: fail-fast connection options, the eviction-policy check, the command id blocks and the box id cache.
import type { RedisOptions } from 'ioredis'
import type { RedisClient } from '../redis/topology.js'
import { reconnectDelay, userRedisOptions } from '../redis/connection.js'
import type { BoxRef } from './keys.js'

/**
 * Options of the API connection: nothing is queued while Redis is away (a call fails at once and the
 * route answers 503), nothing in flight is retried or re-sent on reconnect (a script must not run
 * twice behind the caller's back), every command has a time budget, and reconnection never stops.
 * No auto-pipelining: waiting commands outlive V8's young generation and the accept p99 triples
 * (measured: docs/performance.md, "Measured in code comments before").
 * @param userOptions `broker.redis.options`, applied on top except for the settings fail-fast needs
 */
export function apiConnectionOptions (commandTimeoutMs: number, userOptions: Record<string, unknown> = {}): RedisOptions {
  return {
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    retryStrategy: reconnectDelay,
    ...userRedisOptions(userOptions),
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false
  }
}

/** A warning unless Redis's maxmemory-policy is noeviction (other policies may evict accepted commands), also when CONFIG is disabled. */
export async function evictionPolicyWarning (redis: RedisClient): Promise<string | undefined> {
  try {
    const policy = (await redis.config('GET', 'maxmemory-policy') as string[])[1]
    if (policy === undefined) return 'could not read maxmemory-policy; make sure it is noeviction'
    if (policy !== 'noeviction') return `maxmemory-policy is ${policy}, not noeviction: RedisClient may evict accepted commands`
    return undefined
  } catch (err) {
    return `could not read maxmemory-policy (${(err as Error).message}); make sure it is noeviction`
  }
}

/** Options of the subscriber (a duplicate of the API connection): it waits, retries and resubscribes. */
export const SUBSCRIBER_OVERRIDES: Partial<RedisOptions> = {
  enableAutoPipelining: false,
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  autoResendUnfulfilledCommands: true,
  autoResubscribe: true,
  commandTimeout: undefined
}

/**
 * Command ids from the global sequence in blocks (INCRBY), like a database sequence with an allocation
 * size: accept needs no extra round trip except once per block. Ids stay unique across instances and
 * increase per instance; a dropped block only leaves a gap. The block is dropped whenever the
 * connection closes, so a Redis that lost the INCRBY (crash with AOF everysec) cannot hand it out twice.
 */
export class CommandIds {
  private next = 0
  private end = 0
  private refill: Promise<void> | undefined

  constructor (private readonly redis: RedisClient, private readonly key: string, private readonly blockSize: number) {}

  async take (): Promise<string> {
    while (this.next >= this.end) {
      this.refill ??= this.fetch().finally(() => { this.refill = undefined })
      await this.refill
    }
    return String(this.next++)
  }

  /** Forgets the rest of the block. */
  discard (): void { this.next = this.end }

  private async fetch (): Promise<void> {
    const last = await this.redis.incrby(this.key, this.blockSize)
    this.next = last - this.blockSize + 1
    this.end = last + 1
  }
}

/**
 * A bounded cache for mappings that never change (so entries never go stale). Two generations instead
 * of a strict LRU: a full young generation becomes the old one and the old one is dropped; a hit in the
 * old generation moves up. O(1) everywhere (evicting the oldest key of a single Map scans over the holes
 * its deletes left: measured in docs/performance.md).
 */
export class GenerationCache<V> {
  private young = new Map<string, V>()
  private old = new Map<string, V>()
  private readonly generation: number

  /** @param max roughly how many entries are kept (between max/2 and max) */
  constructor (max: number) { this.generation = Math.max(1, Math.ceil(max / 2)) }

  get (key: string): V | undefined {
    const value = this.young.get(key)
    if (value !== undefined) return value
    const older = this.old.get(key)
    if (older !== undefined) this.set(key, older)
    return older
  }

  set (key: string, value: V): void {
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(key, value)
  }
}

/** Box id -> BoxRef (one round trip per device call instead of two). */
export class BoxRefCache extends GenerationCache<BoxRef> {}
