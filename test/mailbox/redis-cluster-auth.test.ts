// A password-protected Redis Cluster: broker.redis.options.password reaches every node (store, mode check); without it, 503s.
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { StoreUnavailableError } from '../../src/mailbox/store.js'
import { redisModeMismatch } from '../../src/redis/mode-check.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { freshPrefix, request, T0 } from '../helpers/redis-store-fixtures.js'

const PASSWORD = 'cluster-Hunter2'
const cluster = await startRedisCluster(t, { password: PASSWORD })
const config = (options: Record<string, unknown>): RedisConfig => ({
  url: 'redis://unused', prefix: freshPrefix(), options, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
})

t.test('with the password in broker.redis.options: commands on every master, the mode check sees a cluster', async (t) => {
  const store = await RedisMailboxStore.connect({ config: config({ password: PASSWORD }) })
  t.teardown(() => store.close())
  const accepted = await Promise.all(Array.from({ length: 12 }, (_, i) => store.accept(request({ group: `g${i}`, to: ['@tmp', 'ivy'] }), T0)))
  const masters = new Set(await Promise.all(accepted.map(async ({ command }, i) => await cluster.masterFor(store.keys.command(`g${i}`, command.commandId)))))
  t.equal(masters.size, 3, 'the groups spread over all three masters')
  for (const [i, { command }] of accepted.entries()) t.equal((await store.getCommand(`g${i}`, command.commandId, T0 + 1))?.state, 'IN_PROGRESS')
  t.equal(await redisModeMismatch(config({ password: PASSWORD })), undefined, 'cluster mode matches')
  const standalone = await redisModeMismatch({ url: `redis://:${PASSWORD}@127.0.0.1:${cluster.nodes[0]!.port}`, prefix: 'p', options: {} })
  t.match(standalone, /points at a Redis Cluster node/, 'the check authenticates with the URL\'s password')
  t.notMatch(standalone, /Hunter2/, 'and never repeats it')
})

t.test('without the password: unavailable, not a crash', async (t) => {
  const store = await RedisMailboxStore.connect({ config: config({}) }, 500)
  t.teardown(() => store.close())
  const error = await store.accept(request(), T0).then(() => undefined, (err: unknown) => err)
  t.type(error, StoreUnavailableError, String((error as Error | undefined)?.message))
  t.notMatch(String((error as Error | undefined)?.message), /Hunter2/)
})
