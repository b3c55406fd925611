// The store contract on a real Redis Cluster (3 masters, 3 replicas) and a real Sentinel set, two store instances each.
import t, { type Test } from 'tap'
import type { RedisConfig } from '../../src/config/types.js'
import { parseRedisNodes } from '../../src/config/build.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { storeContract } from './store-contract.js'

async function contractOn (t: Test, config: (prefix: string) => RedisConfig): Promise<void> {
  storeContract(t, async () => {
    const prefix = freshPrefix()
    const store = await RedisMailboxStore.connect({ config: config(prefix), purgeGraceMs: 300_000 })
    const peer = await RedisMailboxStore.connect({ config: config(prefix), purgeGraceMs: 300_000 })
    return { store, peer, close: async () => { await Promise.all([store.close(), peer.close()]) } }
  })
}

t.test('Redis Cluster: the store contract', async (t) => {
  const cluster = await startRedisCluster(t)
  await contractOn(t, (prefix) => ({ url: 'redis://unused', prefix, options: {}, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} } }))
})

t.test('Sentinel: the store contract', async (t) => {
  const sentinel = await startRedisSentinel(t)
  await contractOn(t, (prefix) => ({
    url: 'redis://unused', prefix, options: {}, sentinel: { master: sentinel.masterName, nodes: parseRedisNodes(sentinel.sentinelNodes), failoverDetector: false }
  }))
})
