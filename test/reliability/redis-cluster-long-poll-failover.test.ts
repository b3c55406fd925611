// Long polls across a Redis Cluster failover: devices wait (wait=30) on named boxes of every group through one broker, the
// master of some groups' slots is failed over (CLUSTER FAILOVER, then SIGKILL), commands are posted through another broker:
// every device gets its message well before its poll's 30 s deadline (the sharded wake-up subscription follows the new master).
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { RedisKeys } from '../../src/mailbox/keys.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { timeUntil } from './helpers.js'
import { phase } from './long-poll-failover.js'
import { startBrokers } from './topology-load.js'

t.setTimeout(170_000)

const cluster = await startRedisCluster(t)
const prefix = freshPrefix()
const keys = new RedisKeys(prefix)
const config: RedisConfig = { url: 'redis://unused', prefix, options: {}, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} } }

/** The master serving `group`'s wake-up channel (and every other key of the group: one slot). */
const masterOfGroup = async (group: string): Promise<number> => await cluster.masterFor(keys.groupWakeChannel(group))

t.test('CLUSTER FAILOVER, then SIGKILL of a master, under waiting long polls', async (t) => {
  const brokers = await startBrokers(t, config)
  const failedOver = await masterOfGroup('g0')
  await phase(t, brokers, 'failover', async () => {
    const replica = await cluster.replicaOf(failedOver)
    await withNode(replica, async (redis) => await redis.call('CLUSTER', 'FAILOVER'))
    t.ok(await timeUntil(async () => await masterOfGroup('g0') === replica, 20_000, 100) !== undefined, `g0's slot moved to :${replica}`)
  }, async () => { await cluster.waitHealthy() })
  const killedPort = await masterOfGroup('g1')
  const killed = cluster.nodes.find((n) => n.port === killedPort)!
  await phase(t, brokers, 'sigkill', async () => {
    await killed.process.stop('SIGKILL')
    t.ok(await timeUntil(async () => await masterOfGroup('g1') !== killedPort, 30_000, 100) !== undefined, `g1's slot left the killed :${killedPort}`)
    await killed.process.start() // it rejoins as a replica
  }, async () => { await cluster.waitHealthy() })
})
