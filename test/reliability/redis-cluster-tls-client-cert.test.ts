// A Redis Cluster that speaks TLS only and asks every client for a certificate (`tls-auth-clients yes`): brokers reach it
// with the CA, their certificate and key in broker.redis.options.tls (store, subscriber and BullMQ alike).
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { makeTestPki } from '../callbacks/helpers.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { roundTrip } from './cluster-round-trip.js'
import { GROUPS, startBrokers } from './topology-load.js'

t.setTimeout(120_000)

// One certificate for the nodes (server and cluster-bus client) and the brokers: signed by the CA the nodes trust.
const pki = makeTestPki({ clientAuth: true })
const cluster = await startRedisCluster(t, {
  tls: { caPem: pki.caPem, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, clientAuth: true }
})
const config = (tls: Record<string, unknown>): RedisConfig => ({
  url: 'redis://unused', prefix: freshPrefix(), options: { tls }, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} }
})

t.test('the nodes ask for a client certificate: a TLS client with the CA alone gets no answer', async (t) => {
  const port = cluster.nodes[0]!.port
  const setting = await withNode(port, async (redis) => await redis.config('GET', 'tls-auth-clients') as string[], undefined, cluster.tls)
  t.same(setting, ['tls-auth-clients', 'yes'], 'the helper itself gets in with its certificate')
  const without = await withNode(port, async (redis) => await redis.ping(), undefined, { ca: pki.caPem }).then(() => 'answered', (err: Error) => err.message)
  t.not(without, 'answered', `refused without a certificate (${without.slice(0, 120)})`)
})

t.test('with the CA, a certificate and its key in broker.redis.options.tls: accepted, listed, read, answered, callback delivered', async (t) => {
  const brokers = await startBrokers(t, config({ ca: pki.caPem, cert: pki.serverCertPem, key: pki.serverKeyPem }))
  for (const group of GROUPS.slice(0, 3)) await roundTrip(t, brokers, group, `desk-${group}`)
})
