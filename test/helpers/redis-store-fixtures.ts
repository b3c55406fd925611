// Shared pieces of the Redis store tests: prefixes, stores, requests, key listings.
import type { Test } from 'tap'
import { Redis } from 'ioredis'
import { RedisMailboxStore, type RedisMailboxStoreOptions } from '../../src/mailbox/redis-store.js'
import { StoreUnavailableError } from '../../src/mailbox/store.js'
import type { AcceptRequest } from '../../src/mailbox/types.js'

export const T0 = Date.UTC(2026, 0, 1, 12)
export const PAYLOAD = '{"signCommand":{"params":{"tbs":"x"}}}'

let prefixes = 0
/** A key prefix no other test (file, process) uses: nothing else on a Redis is ever touched. */
export function freshPrefix (): string { return `hermodtest${process.pid}n${++prefixes}` }

/** A sign command for group acme, one @tmp destination, 30 s / 60 s. */
export function request (over: Partial<AcceptRequest> = {}): AcceptRequest {
  return { type: 'sign', group: 'acme', clientId: 'prime', timeoutSeconds: 30, lifespanSeconds: 60, to: ['@tmp'], payload: PAYLOAD, ...over }
}

/** A connected store on `url` under `prefix`. */
export async function openStore (url: string, prefix: string, extra: Partial<RedisMailboxStoreOptions> = {}): Promise<RedisMailboxStore> {
  return await RedisMailboxStore.connect({ config: { url, prefix, options: {} }, ...extra })
}

/** A connected store closed when `tt` ends. */
export async function storeFor (
  tt: Test, url: string, prefix = freshPrefix(), extra: Partial<RedisMailboxStoreOptions> = {}
): Promise<RedisMailboxStore> {
  const store = await openStore(url, prefix, extra)
  tt.teardown(() => store.close())
  return store
}

/** A plain client for looking at what the store wrote; it stays quiet while Redis is down on purpose. */
export function adminClient (tt: Test, url: string): Redis {
  const redis = new Redis(url, { retryStrategy: () => 100 })
  redis.on('error', () => {})
  tt.teardown(() => { redis.disconnect() })
  return redis
}

/** Every key under the prefix, sorted (SCAN, never KEYS). */
export async function keysOf (redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys.sort()
}

/** Deletes every key under the prefix (SCAN + DEL, never FLUSHALL). */
export async function dropPrefix (url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const keys = await keysOf(redis, prefix)
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000))
  } finally {
    redis.disconnect()
  }
}

/** Calls `fn`, expecting StoreUnavailableError; returns how long the rejection took, ms. */
export async function unavailableWithin (tt: Test, what: string, fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  const error = await fn().then(() => undefined, (err: unknown) => err)
  const took = performance.now() - started
  tt.ok(error instanceof StoreUnavailableError, `${what}: StoreUnavailableError (got ${String(error)})`)
  return took
}
