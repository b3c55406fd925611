// broker.redis.cluster / sentinel / wait-replicas: Spring-shaped keys, their environment forms, and what is refused.
import t from 'tap'
import { describeConfig } from '../../src/config/describe.js'
import { loadYaml, problemsOf } from './yaml-fixture.js'

const base = 'server:\n  port: 20400\nbroker:\n  store: redis\n'

t.test('no cluster or sentinel settings: standalone, nothing waited for', async (t) => {
  const { config } = await loadYaml(t, base)
  t.equal(config.broker.redis.cluster, undefined)
  t.equal(config.broker.redis.sentinel, undefined)
  t.equal(config.broker.redis.waitReplicas, 0)
  t.equal(config.broker.redis.waitTimeoutMs, 500)
})

t.test('cluster nodes and options from YAML', async (t) => {
  const { config } = await loadYaml(t, `${base}  redis:\n    cluster:\n      nodes: redis-1:6379, redis-2:6380,[::1]:7000\n      options: { natMap: { "10.0.0.1:6379": { host: "127.0.0.1", port: 7001 } } }\n`)
  t.same(config.broker.redis.cluster, {
    nodes: [{ host: 'redis-1', port: 6379 }, { host: 'redis-2', port: 6380 }, { host: '::1', port: 7000 }],
    options: { natMap: { '10.0.0.1:6379': { host: '127.0.0.1', port: 7001 } } },
    groupBuckets: 64
  })
  t.equal(config.broker.redis.reindexIntervalMs, 600_000, 'the index of work due is re-entered every 10 min by default')
})

t.test('the Cluster layout\'s group buckets and the re-index interval, from the environment, and their bounds', async (t) => {
  const { config } = await loadYaml(t, base, { env: { BROKER_REDIS_CLUSTER_NODES: 'a:1', BROKER_REDIS_CLUSTER_GROUPBUCKETS: '16', BROKER_REDIS_REINDEXINTERVALMS: '0' } })
  t.equal(config.broker.redis.cluster?.groupBuckets, 16)
  t.equal(config.broker.redis.reindexIntervalMs, 0)
  const problems = async (env: Record<string, string>): Promise<string> => (await problemsOf(loadYaml(t, base, { env }))).join('\n')
  t.match(await problems({ BROKER_REDIS_CLUSTER_NODES: 'a:1', BROKER_REDIS_CLUSTER_GROUPBUCKETS: '1025' }), /broker\.redis\.cluster\.group-buckets/)
  t.match(await problems({ BROKER_REDIS_CLUSTER_GROUPBUCKETS: '0' }), /broker\.redis\.cluster\.group-buckets/)
  t.match(await problems({ BROKER_REDIS_REINDEXINTERVALMS: '-1' }), /broker\.redis\.reindex-interval-ms/)
})

t.test('the Spring-style environment variables select the modes and wait-replicas', async (t) => {
  const cluster = await loadYaml(t, base, { env: { BROKER_REDIS_CLUSTER_NODES: 'a:1,b:2', BROKER_REDIS_WAIT_REPLICAS: '1', BROKER_REDIS_WAITTIMEOUTMS: '250' } })
  t.same(cluster.config.broker.redis.cluster?.nodes, [{ host: 'a', port: 1 }, { host: 'b', port: 2 }])
  t.equal(cluster.config.broker.redis.waitReplicas, 1)
  t.equal(cluster.config.broker.redis.waitTimeoutMs, 250)
  const sentinel = await loadYaml(t, base, {
    env: { BROKER_REDIS_SENTINEL_MASTER: 'mymaster', BROKER_REDIS_SENTINEL_NODES: 's1:26379,s2:26379', BROKER_REDIS_SENTINEL_PASSWORD: 'pw' }
  })
  t.same(sentinel.config.broker.redis.sentinel, {
    master: 'mymaster', nodes: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], password: 'pw', failoverDetector: false
  })
})

t.test('refused: both modes, a master without sentinels, sentinels without a master, a malformed node list, replica reads', async (t) => {
  const problems = async (env: Record<string, string>): Promise<string> => (await problemsOf(loadYaml(t, base, { env }))).join('\n')
  t.match(await problems({ BROKER_REDIS_CLUSTER_NODES: 'a:1', BROKER_REDIS_SENTINEL_MASTER: 'm', BROKER_REDIS_SENTINEL_NODES: 's:1' }),
    /broker\.redis\.sentinel\.master: must not be set together with broker\.redis\.cluster\.nodes/)
  t.match(await problems({ BROKER_REDIS_SENTINEL_MASTER: 'm' }), /broker\.redis\.sentinel\.nodes: is required with broker\.redis\.sentinel\.master/)
  t.match(await problems({ BROKER_REDIS_SENTINEL_NODES: 's:1' }), /broker\.redis\.sentinel\.master: is required with broker\.redis\.sentinel\.nodes/)
  t.match(await problems({ BROKER_REDIS_CLUSTER_NODES: 'redis-1' }), /broker\.redis\.cluster\.nodes: must be host:port entries separated by commas/)
  t.match(await problems({ BROKER_REDIS_CLUSTER_NODES: 'a:1', BROKER_REDIS_CLUSTER_OPTIONS: '{"scaleReads":"slave"}' }),
    /broker\.redis\.cluster\.options\.scaleReads: must be master \(or unset\)/)
  t.match(await problems({ BROKER_REDIS_WAITREPLICAS: '17' }), /broker\.redis\.wait-replicas/)
})

t.test('the start-up summary names the mode and the nodes, never a password', async (t) => {
  const { config } = await loadYaml(t, base, {
    env: { BROKER_REDIS_SENTINEL_MASTER: 'mymaster', BROKER_REDIS_SENTINEL_NODES: 's1:26379', BROKER_REDIS_SENTINEL_PASSWORD: 'SENTINELPW-Hunter2', BROKER_REDIS_OPTIONS: '{"password":"NODEPW-Hunter2"}' }
  })
  const summary = describeConfig(config)
  t.match(summary, { broker: { redis: { mode: 'sentinel', master: 'mymaster', sentinels: ['s1:26379'], sentinelPassword: 'set', options: ['password'] } } })
  t.notMatch(JSON.stringify(summary), /Hunter2/)
  const cluster = await loadYaml(t, base, { env: { BROKER_REDIS_CLUSTER_NODES: 'a:1,b:2' } })
  t.match(describeConfig(cluster.config), { broker: { redis: { mode: 'cluster', nodes: ['a:1', 'b:2'] } } })
})
