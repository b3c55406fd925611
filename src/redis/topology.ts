// The one factory of Redis connections: standalone (URL), Redis Cluster (seed nodes) or Sentinel, from `broker.redis`.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../config/types.js'
import { reconnectDelay, userRedisOptions } from './connection.js'

/** A connection of any mode: ioredis's Cluster speaks the same commands as a single-node client. */
export type RedisClient = Redis | Cluster

/** How the broker reaches Redis: set by which of `broker.redis.cluster.nodes` / `sentinel.master` is given (Spring's rule). */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel'

export function redisMode (config: Pick<RedisConfig, 'cluster' | 'sentinel'>): RedisMode {
  if (config.cluster !== undefined) return 'cluster'
  if (config.sentinel !== undefined) return 'sentinel'
  return 'standalone'
}

/**
 * Settings of every Cluster client the broker makes, on top of `broker.redis.cluster.options`: slots are
 * always read from the masters (a replica may not hold the store's last write yet), the slot map is
 * refreshed forever with the broker's reconnect delay, and `offlineQueue` follows the per-node options
 * (fail fast for the API, wait for the subscriber and BullMQ's worker).
 */
function clusterOptions (config: RedisConfig, nodeOptions: RedisOptions): ClusterOptions {
  const { redisOptions: _ignored, ...userCluster } = (config.cluster?.options ?? {}) as ClusterOptions
  return {
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    ...userCluster,
    scaleReads: 'master',
    clusterRetryStrategy: (attempt) => reconnectDelay(attempt),
    enableOfflineQueue: nodeOptions.enableOfflineQueue ?? true,
    ...(nodeOptions.enableAutoPipelining === undefined ? {} : { enableAutoPipelining: nodeOptions.enableAutoPipelining }),
    redisOptions: nodeOptions
  }
}

/**
 * A new connection in the configured mode.
 * @param connectionOptions the caller's settings (fail-fast or waiting), applied over `broker.redis.options`
 */
export function createRedisClient (config: RedisConfig, connectionOptions: RedisOptions): RedisClient {
  const nodeOptions: RedisOptions = { ...userRedisOptions(config.options), ...connectionOptions }
  if (config.cluster !== undefined) {
    const { retryStrategy: _nodeRetry, ...perNode } = nodeOptions
    const cluster = new Cluster(config.cluster.nodes, clusterOptions(config, perNode))
    // A node the slot map names but the broker cannot reach (behind NAT without natMap, TLS missing, ...) only says so in a
    // 'node error'; the connection's 'error' then says "Cluster isn't ready" at most. Passed on, with the node, to whoever
    // logs the connection's errors (throttled there).
    cluster.on('node error', (err: Error, address: string) => {
      if (cluster.listenerCount('error') > 0) cluster.emit('error', new Error(`redis cluster node ${address}: ${err.message}`))
    })
    return cluster
  }
  if (config.sentinel !== undefined) {
    const sentinel = config.sentinel
    return new Redis({
      ...nodeOptions,
      sentinels: sentinel.nodes,
      name: sentinel.master,
      failoverDetector: sentinel.failoverDetector,
      // ioredis connects to the master the sentinels name in plain TCP unless told: TLS options mean a TLS master. The
      // sentinels themselves speak TLS with `sentinelTLS` (broker.redis.options, passed through).
      enableTLSForSentinelMode: nodeOptions.enableTLSForSentinelMode ?? nodeOptions.tls !== undefined,
      sentinelRetryStrategy: (attempt: number) => reconnectDelay(attempt),
      // A master demoted under a live connection answers READONLY: reconnect (asking the sentinels again), resend nothing.
      reconnectOnError: (err: Error) => err.message.startsWith('READONLY') ? 1 : false,
      ...(sentinel.username === undefined ? {} : { sentinelUsername: sentinel.username }),
      ...(sentinel.password === undefined ? {} : { sentinelPassword: sentinel.password })
    })
  }
  return new Redis(config.url, nodeOptions)
}

/** How often a Cluster subscriber reads the slot map, ms (see duplicateClient). */
export const SUBSCRIBER_SLOTS_REFRESH_MS = 1_000

/** A second connection like `client` with `overrides` (the subscriber): Cluster and Redis duplicate differently. */
export function duplicateClient (client: RedisClient, overrides: Partial<RedisOptions>): RedisClient {
  if (client instanceof Cluster) {
    const redisOptions = { ...client.options.redisOptions, ...overrides }
    return client.duplicate(undefined, {
      redisOptions,
      enableOfflineQueue: overrides.enableOfflineQueue ?? client.options.enableOfflineQueue,
      // SSUBSCRIBE goes to the master of each channel's slot (the store's sharded wake-up channels, wake-channels.ts).
      shardedSubscribers: true,
      // A subscriber sends no commands that a MOVED would answer, and a graceful failover (CLUSTER FAILOVER) only tells it
      // with a SUNSUBSCRIBE that ioredis ignores: without a periodic look at the slot map its subscriptions of the slots
      // that moved stay gone. One CLUSTER SLOTS per interval and instance (unless broker.redis.cluster.options sets it).
      slotsRefreshInterval: client.options.slotsRefreshInterval ?? SUBSCRIBER_SLOTS_REFRESH_MS,
      ...(overrides.enableAutoPipelining === undefined ? {} : { enableAutoPipelining: overrides.enableAutoPipelining })
    })
  }
  return client.duplicate(overrides)
}
