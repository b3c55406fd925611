// The Redis side of the rate limits: a dedicated fail-fast connection and a store that lets requests through when Redis fails.
import { createRequire } from 'node:module'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { RedisConfig } from '../../config/types.js'
import { apiConnectionOptions } from '../../mailbox/redis-connection.js'
import { createRedisClient, type RedisClient } from '../../redis/topology.js'

/** A counter may take this long before the request goes on uncounted (a hung Redis must not hold requests). */
const COUNTER_TIMEOUT_MS = 500

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1]
interface RedisCounter {
  incr: (key: string, callback: IncrCallback, timeWindow: number, max: number) => void
}
type RedisCounterCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, redis: RedisClient, keyPrefix: string) => RedisCounter

// The plugin's own Redis store (one Lua INCR + PEXPIRE per request); the package ships no types for it.
const PluginRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as RedisCounterCtor

/**
 * The connection the counters use: nothing queued while Redis is away (a count fails at once), every
 * count bounded by COUNTER_TIMEOUT_MS, reconnecting forever (apiConnectionOptions). Its errors go to
 * `onError`, so ioredis never reports them as unhandled. Resolves once it is ready, or after its connect
 * timeout when Redis is not there (the counts then fail open until it is).
 */
export async function counterConnection (config: RedisConfig, onError: (err: Error) => void): Promise<RedisClient> {
  const options = { ...apiConnectionOptions(COUNTER_TIMEOUT_MS, config.options), connectionName: 'hermod-rate-limit' }
  // In the configured mode (standalone, Cluster, Sentinel): each counter is one key, spread over the slots.
  const redis = createRedisClient(config, options)
  redis.on('error', onError)
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    new Promise((resolve) => { redis.once('ready', resolve) }),
    new Promise((resolve) => { timer = setTimeout(resolve, options.connectTimeout ?? 2000) })
  ]).finally(() => clearTimeout(timer))
  return redis
}

/**
 * A store class for @fastify/rate-limit's `store` option: its RedisStore under `keyPrefix`, but a failed
 * count is reported to `onError` before the plugin's `skipOnError` lets the request through uncounted.
 */
export function failOpenRedisStore (redis: RedisClient, keyPrefix: string, onError: (err: Error) => void): FastifyRateLimitStoreCtor {
  return class FailOpenRedisStore implements FastifyRateLimitStore {
    private readonly inner = new PluginRedisStore(false, false, redis, keyPrefix)

    incr (key: string, callback: IncrCallback, timeWindow: number, max: number): void {
      this.inner.incr(key, (err, result) => {
        if (err !== null) onError(err)
        callback(err, result)
      }, timeWindow, max)
    }

    child (): FastifyRateLimitStore { return this }
  }
}
