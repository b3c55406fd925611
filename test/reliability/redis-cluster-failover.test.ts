// Three brokers on a real 6-node Redis Cluster: steady load, a CLUSTER FAILOVER, a SIGKILLed master, with and without
// wait-replicas. Counts acknowledged commands lost, checks callbacks (one terminal event each), reports recovery.
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import { RedisKeys } from '../../src/mailbox/keys.js'
import type { RedisConfig } from '../../src/config/types.js'
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { failureScenario, startBrokers } from './topology-load.js'

t.setTimeout(170_000)

const cluster = await startRedisCluster(t)
const config = (prefix: string, waitReplicas: number): RedisConfig => ({
  url: 'redis://unused', prefix, options: {}, waitReplicas, waitTimeoutMs: 500, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
})

/** SIGKILLs the master of `key`'s slot, waits for its replica to take over, restarts it (it rejoins as a replica). */
async function killMasterOf (c: RedisCluster, key: string): Promise<void> {
  const port = await c.masterFor(key)
  const node = c.nodes.find((n) => n.port === port)!
  await node.process.stop('SIGKILL')
  await c.waitHealthy()
  await node.process.start()
}

t.test('without wait-replicas: steady, CLUSTER FAILOVER of the callback queue\'s master, SIGKILL of a group\'s master', async (t) => {
  const prefix = freshPrefix()
  const brokers = await startBrokers(t, config(prefix, 0))
  const steady = await failureScenario(t, brokers, undefined, { warmupMs: 2_000, maxMs: 20_000 })
  t.same([steady.lost, steady.unexpected, steady.wrongCallbacks], [[], [], []], 'steady: nothing lost, every command one terminal callback')

  const graceful = await failureScenario(t, brokers, async () => {
    const replica = await cluster.replicaOf(await cluster.masterFor(`${prefix}:{cb}:callbacks:meta`))
    await withNode(replica, async (redis) => await redis.call('CLUSTER', 'FAILOVER'))
  }, { warmupMs: 1_500, maxMs: 25_000 })
  t.same([graceful.lost, graceful.unexpected, graceful.wrongCallbacks], [[], [], []], 'CLUSTER FAILOVER: nothing lost, callbacks whole')
  await cluster.waitHealthy()

  const killed = await failureScenario(t, brokers, async () => { await killMasterOf(cluster, new RedisKeys(prefix, 64).deadlines('g0')) }, { warmupMs: 1_500, maxMs: 30_000 })
  t.same([killed.unexpected, killed.wrongCallbacks], [[], []], 'SIGKILL: only 503s while the slot had no master; every surviving command one terminal callback')
  t.comment(`without wait-replicas, SIGKILL of a master: ${killed.lost.length} of ${killed.accepted} acknowledged commands lost`)
  await cluster.waitHealthy()
})

t.test('wait-replicas 1: a SIGKILLed master loses no acknowledged command', async (t) => {
  const prefix = freshPrefix()
  const brokers = await startBrokers(t, config(prefix, 1))
  const killed = await failureScenario(t, brokers, async () => { await killMasterOf(cluster, new RedisKeys(prefix, 64).deadlines('g1')) }, { warmupMs: 1_500, maxMs: 30_000 })
  t.same(killed.lost, [], 'every acknowledged command survived')
  t.same([killed.unexpected, killed.wrongCallbacks], [[], []], 'callbacks whole')
})
