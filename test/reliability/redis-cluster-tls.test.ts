// A Redis Cluster that speaks TLS only (clients, the cluster bus and replication): brokers reach it with broker.redis.options.tls,
// store, subscriber and BullMQ alike; without it they answer 503 and never hang.
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { makeTestPki } from '../callbacks/helpers.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { exitWatchdog } from '../helpers/exit-watchdog.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { roundTrip, unusableStore } from './cluster-round-trip.js'
import { GROUPS, startBrokers } from './topology-load.js'

t.setTimeout(120_000)
exitWatchdog(t)

// The cluster bus always asks the connecting node for its certificate: the nodes' is a client certificate too.
const pki = makeTestPki({ clientAuth: true })
const cluster = await startRedisCluster(t, { tls: { caPem: pki.caPem, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem } })
const config = (options: Record<string, unknown>): RedisConfig => ({
  url: 'redis://unused', prefix: freshPrefix(), options, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
})

t.test('the nodes speak TLS only, the cluster bus and replication too', async (t) => {
  const port = cluster.nodes[0]!.port
  const info = await withNode(port, async (redis) => await redis.config('GET', 'tls-*') as string[], undefined, cluster.tls)
  const settings = new Map<string, string>()
  for (let i = 0; i < info.length; i += 2) settings.set(info[i]!, info[i + 1]!)
  t.match(Object.fromEntries(settings), { 'tls-port': String(port), 'tls-cluster': 'yes', 'tls-replication': 'yes' })
  const plain = await withNode(port, async (redis) => await redis.ping()).then(() => 'answered', (err: Error) => err.message)
  t.not(plain, 'answered', 'a plain-TCP client gets no answer on the port')
})

t.test('with the CA in broker.redis.options.tls: accepted, listed, read, answered on other instances, callback delivered', async (t) => {
  const brokers = await startBrokers(t, config({ tls: { ca: pki.caPem } }))
  // Groups whose slots are on different masters, so that more than one node's TLS connection is used.
  for (const group of GROUPS.slice(0, 3)) await roundTrip(t, brokers, group, `desk-${group}`)
})

t.test('without TLS options (a broker process): listens, readiness 503, SIGTERM ends it', async (t) => {
  const { output } = await unusableStore(t, { BROKER_REDIS_CLUSTER_NODES: cluster.seeds })
  t.notMatch(output, /BEGIN CERTIFICATE|PRIVATE KEY/, 'no key material in its log')
})
