// The console feed and the rate-limit counters connect in the configured Redis mode (Cluster, Sentinel), like the store.
import t, { type Test } from 'tap'
import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import type { ConsoleEvent } from '../../src/console/feed.js'
import { RedisConsoleFeed } from '../../src/console/redis-feed.js'
import { closeConnection } from '../../src/redis/connection.js'
import { counterConnection, failOpenRedisStore } from '../../src/server/rate-limit/redis-counter.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

/** `broker.redis.url` points nowhere: only the Cluster or Sentinel settings can reach Redis. */
const NOWHERE = 'redis://127.0.0.1:1'

async function features (t: Test, config: RedisConfig): Promise<void> {
  t.test('the console feed: appended by one instance, read and heard by another', async (t) => {
    const writer = new RedisConsoleFeed(config)
    const reader = new RedisConsoleFeed(config)
    t.teardown(async () => { await writer.close(); await reader.close() })
    const heard: ConsoleEvent[] = []
    reader.subscribe((event) => heard.push(event))
    await new Promise((resolve) => setTimeout(resolve, 500))
    await writer.append({ at: new Date(0).toISOString(), kind: 'accepted', commandId: '1' })
    t.same((await reader.since('0-0', 10)).events.map((e) => e.commandId), ['1'], 'read back')
    for (let i = 0; i < 100 && heard.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.same(heard.map((e) => e.commandId), ['1'], 'heard by the other instance\'s blocking read')
  })

  t.test('the rate-limit counters: one budget counted by two connections', async (t) => {
    const errors: Error[] = []
    const onError = (err: Error): void => { errors.push(err) }
    const connections = [await counterConnection(config, onError), await counterConnection(config, onError)]
    t.teardown(async () => { await Promise.all(connections.map(closeConnection)) })
    const counts: number[] = []
    for (let i = 0; i < 4; i++) {
      const Store = failOpenRedisStore(connections[i % 2]!, `${config.prefix}:rl:client:`, (err) => errors.push(err))
      const store = new Store({}) as FastifyRateLimitStore
      counts.push(await new Promise<number>((resolve, reject) => {
        store.incr('prime', (err, result) => { if (err !== null || result === undefined) reject(err); else resolve(result.current) }, 60_000, 10)
      }))
    }
    t.same(counts, [1, 2, 3, 4], 'the two connections count one key')
    t.same(errors.map((e) => e.message), [], 'no connection or count error')
  })
}

t.test('Redis Cluster', async (t) => {
  const cluster = await startRedisCluster(t)
  await features(t, { url: NOWHERE, prefix: freshPrefix(), options: {}, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} } })
})

t.test('Sentinel', async (t) => {
  const sentinel = await startRedisSentinel(t)
  await features(t, {
    url: NOWHERE,
    prefix: freshPrefix(),
    options: {},
    sentinel: { master: sentinel.masterName, nodes: parseRedisNodes(sentinel.sentinelNodes), failoverDetector: false }
  })
})
