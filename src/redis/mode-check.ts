// The start-up check that the configured Redis mode matches the server: a standalone URL at a Cluster node and the like.
import { Redis, type RedisOptions } from 'ioredis'
import type { RedisConfig, RedisNodeAddress } from '../config/types.js'
import { userRedisOptions } from './connection.js'
import { redisMode } from './topology.js'

/** One short probe connection: no retries, no queue, bounded. Unreachable servers are not a mismatch (the broker waits for them). */
async function probe<T> (
  target: string | RedisNodeAddress, options: RedisOptions, fn: (redis: Redis) => Promise<T>
): Promise<T | undefined> {
  const settings: RedisOptions = {
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 2000,
    commandTimeout: 2000
  }
  const redis = typeof target === 'string' ? new Redis(target, settings) : new Redis({ ...settings, host: target.host, port: target.port })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return await fn(redis)
  } catch {
    return undefined
  } finally {
    redis.disconnect()
  }
}

const field = (info: string, name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()

/** What kind of server answers: 'cluster' (cluster_enabled:1), 'sentinel', 'standalone', or undefined when unreachable. */
async function serverKind (target: string | RedisNodeAddress, options: RedisOptions): Promise<'cluster' | 'sentinel' | 'standalone' | undefined> {
  return await probe(target, options, async (redis) => {
    const info = await redis.info('server') + await redis.info('cluster').catch(() => '')
    if (field(info, 'redis_mode') === 'sentinel') return 'sentinel'
    return field(info, 'cluster_enabled') === '1' ? 'cluster' : 'standalone'
  })
}

/**
 * Why the configured mode cannot work with the servers it names, with what to set instead; undefined
 * when it matches or nothing answered (then the broker starts and reconnects as usual).
 */
export async function redisModeMismatch (config: RedisConfig): Promise<string | undefined> {
  const options = userRedisOptions(config.options)
  const mode = redisMode(config)
  if (mode === 'standalone') {
    const kind = await serverKind(config.url, options)
    if (kind === 'cluster') {
      return 'broker.redis.url points at a Redis Cluster node (INFO cluster says cluster_enabled:1): a single-node client would fail on ' +
        'every key of another node\'s slots. Set broker.redis.cluster.nodes (BROKER_REDIS_CLUSTER_NODES=host:port,host:port,...) to the cluster\'s nodes instead'
    }
    if (kind === 'sentinel') {
      return 'broker.redis.url points at a Redis Sentinel, not a data node. Set broker.redis.sentinel.master (the monitored name) and ' +
        'broker.redis.sentinel.nodes (BROKER_REDIS_SENTINEL_MASTER, BROKER_REDIS_SENTINEL_NODES=host:port,...) instead'
    }
    return undefined
  }
  if (mode === 'cluster') {
    for (const node of config.cluster?.nodes ?? []) {
      const kind = await serverKind(node, options)
      if (kind === undefined) continue
      if (kind === 'cluster') return undefined
      return `broker.redis.cluster.nodes names ${node.host}:${node.port}, which is ${kind === 'sentinel' ? 'a Redis Sentinel' : 'a standalone Redis (cluster_enabled:0)'}, ` +
        `not a Redis Cluster node. ${kind === 'sentinel'
          ? 'Set broker.redis.sentinel.master and broker.redis.sentinel.nodes instead'
          : 'Unset broker.redis.cluster.nodes and set broker.redis.url (BROKER_REDIS_URL=redis://host:port) instead'}`
    }
    return undefined
  }
  const sentinel = config.sentinel!
  const sentinelOptions: RedisOptions = {
    ...(sentinel.username === undefined ? {} : { username: sentinel.username }),
    ...(sentinel.password === undefined ? {} : { password: sentinel.password }),
    // As ioredis reaches them: over TLS with `sentinelTLS` (broker.redis.options), whatever the data nodes speak.
    ...(options.sentinelTLS === undefined ? {} : { tls: options.sentinelTLS })
  }
  let answered = false
  for (const node of sentinel.nodes) {
    const reply = await probe(node, sentinelOptions, async (redis) => {
      try {
        return { master: await redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.master) as unknown }
      } catch (err) {
        return { error: (err as Error).message }
      }
    })
    if (reply === undefined) continue
    if ('error' in reply) {
      return `broker.redis.sentinel.nodes names ${node.host}:${node.port}, which does not answer SENTINEL commands (${reply.error}): ` +
        'list the sentinels there (their port, usually 26379), not the data nodes'
    }
    if (reply.master !== null) return undefined
    answered = true
  }
  if (!answered) return undefined
  return `the sentinels do not know a master named ${JSON.stringify(sentinel.master)} (SENTINEL get-master-addr-by-name answered nothing): ` +
    'set broker.redis.sentinel.master to the name in their `sentinel monitor <name> ...` line'
}
