// A busy group's slot migrated to another master (SETSLOT IMPORTING/MIGRATING, MIGRATE in batches, SETSLOT NODE) while three
// brokers run traffic on a real cluster: nothing acknowledged is lost, every command gets exactly one terminal callback.
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import { RedisKeys } from '../../src/mailbox/keys.js'
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { failureScenario, startBrokers } from './topology-load.js'

t.setTimeout(120_000)

/** Moves `key`'s slot from its master to another master, key batch by key batch, as `redis-cli --cluster reshard` does. */
async function migrateSlotOf (cluster: RedisCluster, key: string): Promise<{ slot: number, keys: number }> {
  const source = await cluster.masterFor(key)
  const target = (await cluster.masters()).find((port) => port !== source)!
  const id = async (port: number): Promise<string> => await withNode(port, async (r) => await r.call('CLUSTER', 'MYID') as string)
  const [sourceId, targetId] = [await id(source), await id(target)]
  const slot = await withNode(source, async (r) => await r.call('CLUSTER', 'KEYSLOT', key) as number)
  await withNode(target, async (r) => await r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId))
  await withNode(source, async (r) => await r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId))
  let moved = 0
  for (;;) {
    const keys = await withNode(source, async (r) => await r.call('CLUSTER', 'GETKEYSINSLOT', slot, 20) as string[])
    if (keys.length === 0) break
    await withNode(source, async (r) => await r.call('MIGRATE', '127.0.0.1', target, '', 0, 5000, 'KEYS', ...keys))
    moved += keys.length
    await new Promise((resolve) => setTimeout(resolve, 20)) // traffic runs between batches
  }
  for (const port of await cluster.masters()) {
    await withNode(port, async (r) => await r.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId))
  }
  return { slot, keys: moved }
}

t.test('the slot of a busy group migrates under load', async (t) => {
  const cluster = await startRedisCluster(t)
  const prefix = freshPrefix()
  const brokers = await startBrokers(t, {
    url: 'redis://unused', prefix, options: {}, waitReplicas: 0, waitTimeoutMs: 500, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
  })
  const groupKey = new RedisKeys(prefix, 64).deadlines('g0')
  const before = await cluster.masterFor(groupKey)
  let migration = { slot: -1, keys: 0 }
  const migrate = async (): Promise<void> => { migration = await migrateSlotOf(cluster, groupKey) }
  const report = await failureScenario(t, brokers, migrate, { warmupMs: 2_000, maxMs: 30_000 })
  t.not(await cluster.masterFor(groupKey), before, `slot ${migration.slot} moved to another master (${migration.keys} keys)`)
  t.ok(migration.keys > 0, 'the slot held keys of the group while it moved')
  t.same([report.lost, report.unexpected, report.wrongCallbacks], [[], [], []], 'nothing lost, no 5xx, every command one terminal callback')
})
