// broker.redis.wait-replicas on real replicas: a resolved change is on the replicas; a short WAIT is an error, the change may be stored.
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { ReplicationShortError } from '../../src/redis/replica-wait.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker } from '../../src/server/broker.js'
import { KEYS, testConfig } from '../helpers/config.js'
import { withNode } from '../helpers/redis-processes.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { freshPrefix, request, T0 } from '../helpers/redis-store-fixtures.js'

/** Whether the replica on `port` holds `key` (READONLY first: a Cluster replica then answers reads of its master's slots). */
async function replicaHas (port: number, key: string): Promise<number> {
  return await withNode(port, async (redis) => {
    await redis.call('READONLY').catch(() => {})
    return await redis.exists(key)
  })
}

t.test('Sentinel set, wait-replicas 2', async (t) => {
  const set = await startRedisSentinel(t)
  const prefix = freshPrefix()
  const config: RedisConfig = {
    url: 'redis://unused',
    prefix,
    options: {},
    waitReplicas: 2,
    // Generous for a loaded machine, yet an accept's WAITs on one connection run one after the other: both within the 2 s command budget.
    waitTimeoutMs: 600,
    sentinel: { master: set.masterName, nodes: parseRedisNodes(set.sentinelNodes), failoverDetector: false }
  }
  const store = await RedisMailboxStore.connect({ config })
  t.teardown(() => store.close())

  const accepted = await Promise.all(Array.from({ length: 20 }, () => store.accept(request({ to: ['@tmp', 'ivy'] }), T0)))
  for (const { command } of accepted) {
    const key = store.keys.command('acme', command.commandId)
    const copies = await Promise.all(set.servers.slice(1).map(async (s) => await replicaHas(s.port, key)))
    t.same(copies, [1, 1], `command ${command.commandId} is on both replicas when accept resolves`)
  }
  const first = accepted[0]!.command.destinations[0]!
  t.match(await store.answer(first.bid, first.mid, { status: 'OK', response: '{}' }, T0 + 1), { kind: 'ok', state: 'COMPLETED' })

  for (const replica of set.servers.slice(1)) replica.pause()
  const keyed = request({ idempotencyKey: 'during-pause' })
  const error = await store.accept(keyed, T0 + 2).then(() => undefined, (err: unknown) => err)
  t.type(error, ReplicationShortError, 'replicas that do not confirm in time: the accept fails')
  t.match((error as Error).message, /reached 0 of 2 replicas/)
  for (const replica of set.servers.slice(1)) replica.resume()
  const retried = await store.accept(keyed, T0 + 3)
  t.equal(retried.replayed, true, 'the change was stored on the master: the retry with the same Idempotency-Key finds it')

  // Over HTTP: 503 HERMOD_STORE_NOT_REPLICATED with Retry-After.
  const broker = await createBroker(testConfig({ broker: { store: 'redis', redis: { ...config, prefix: freshPrefix() } } }))
  t.teardown(() => broker.close())
  await set.waitHealthy(2)
  const post = async (): Promise<{ statusCode: number, json: () => any, headers: Record<string, unknown> }> => await broker.app.inject({
    method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) }, payload: { signCommand: {} }
  })
  t.equal((await post()).statusCode, 200, 'replicas up: 200')
  for (const replica of set.servers.slice(1)) replica.pause()
  const refused = await post()
  for (const replica of set.servers.slice(1)) replica.resume()
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'HERMOD_STORE_NOT_REPLICATED')
  t.equal(refused.headers['retry-after'], '1')
})

t.test('Cluster, wait-replicas 1: the group\'s node and the box index\'s node each WAIT for their replica', async (t) => {
  const cluster = await startRedisCluster(t)
  const config: RedisConfig = {
    url: 'redis://unused',
    prefix: freshPrefix(),
    options: {},
    waitReplicas: 1,
    // Generous: a healthy replica took longer than 300 ms to acknowledge on a loaded machine; two WAITs on one node stay within 2 s.
    waitTimeoutMs: 900,
    cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
  }
  const store = await RedisMailboxStore.connect({ config })
  t.teardown(() => store.close())
  for (let i = 0; i < 10; i++) {
    const { command } = await store.accept(request({ group: `g${i}`, to: ['@tmp'] }), T0)
    const key = store.keys.command(`g${i}`, command.commandId)
    const replica = await cluster.replicaOf(await cluster.masterFor(key))
    t.equal(await replicaHas(replica, key), 1, `g${i}: on the replica of its master`)
    const index = store.keys.boxIndex(command.destinations[0]!.bid)
    const indexReplica = await cluster.replicaOf(await cluster.masterFor(index))
    t.equal(await replicaHas(indexReplica, index), 1, `g${i}: its box index is on the replica of its own master`)
  }
})
