// A Sentinel set that speaks TLS only (data nodes, replication and the sentinels): brokers reach it with the CA in
// broker.redis.options.tls (the data nodes) and .sentinelTLS (the sentinels), store, subscriber and BullMQ alike.
import t from 'tap'
import type { RedisConfig } from '../../src/config/types.js'
import { redisModeMismatch } from '../../src/redis/mode-check.js'
import { makeTestPki } from '../callbacks/helpers.js'
import { withNode } from '../helpers/redis-processes.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { roundTrip } from './cluster-round-trip.js'
import { GROUPS, sentinelConfig, startBrokers } from './topology-load.js'

t.setTimeout(120_000)

const pki = makeTestPki()
const set = await startRedisSentinel(t, { tls: { caPem: pki.caPem, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem } })

t.test('the data nodes and the sentinels speak TLS only', async (t) => {
  for (const node of [set.servers[0]!, set.sentinels[0]!]) {
    const over = await withNode(node.port, async (redis) => await redis.ping(), undefined, set.tls).then(() => 'answered', (err: Error) => err.message)
    t.equal(over, 'answered', `:${node.port} answers over TLS`)
    const plain = await withNode(node.port, async (redis) => await redis.ping()).then(() => 'answered', (err: Error) => err.message)
    t.not(plain, 'answered', `:${node.port}: a plain-TCP client gets no answer`)
  }
})

t.test('with the CA in broker.redis.options.tls and .sentinelTLS: accepted, listed, read, answered on other instances, callback delivered', async (t) => {
  const config: RedisConfig = { ...sentinelConfig(set, 0, 500), options: { tls: { ca: pki.caPem }, sentinelTLS: { ca: pki.caPem } } }
  const brokers = await startBrokers(t, config)
  for (const group of GROUPS.slice(0, 2)) await roundTrip(t, brokers, group, `desk-${group}`)
})

t.test('the start-up mode check reaches the sentinels over TLS with sentinelTLS: a master name they do not monitor is refused', async (t) => {
  const config: RedisConfig = { ...sentinelConfig(set, 0, 500), options: { tls: { ca: pki.caPem }, sentinelTLS: { ca: pki.caPem } } }
  t.equal(await redisModeMismatch(config), undefined, 'the right name: no mismatch')
  t.match(await redisModeMismatch({ ...config, sentinel: { ...config.sentinel!, master: 'no-such-master' } }),
    /the sentinels do not know a master named "no-such-master"/)
  const sentinelsOnly: RedisConfig = { ...config, options: { sentinelTLS: { ca: pki.caPem } }, sentinel: { ...config.sentinel!, master: 'no-such-master' } }
  t.match(await redisModeMismatch(sentinelsOnly), /the sentinels do not know a master named "no-such-master"/,
    'with sentinelTLS alone too: the sentinels are reached with it, not with the data nodes\' tls')
})
