// A Redis Cluster whose nodes tell clients a name they cannot reach (as behind NAT or in containers): with
// broker.redis.cluster.options.natMap the brokers work end to end; without it they answer 503 and never hang.
import { join } from 'node:path'
import t from 'tap'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisConfig } from '../../src/config/types.js'
import { spawnBroker } from '../helpers/broker-process.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { exitWatchdog } from '../helpers/exit-watchdog.js'
import { withNode } from '../helpers/redis-processes.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { roundTrip, unusableStore } from './cluster-round-trip.js'
import { timeUntil } from './helpers.js'
import { GROUPS, startBrokers } from './topology-load.js'

t.setTimeout(150_000)
exitWatchdog(t)

// `.invalid` never resolves (RFC 2606). Announcing an unreachable IP (--cluster-announce-ip) instead would break the
// cluster itself on one host: its bus and replication follow the announced IP; the announced host name is for clients only.
const hostOf = (port: number): string => `node-${port}.hermod.invalid`
const cluster = await startRedisCluster(t, { announceHostname: hostOf })
const natMap = Object.fromEntries(cluster.nodes.map((node) => [`${hostOf(node.port)}:${node.port}`, { host: '127.0.0.1', port: node.port }]))
const config = (options: Record<string, unknown>): RedisConfig => ({
  url: 'redis://unused', prefix: freshPrefix(), options: {}, cluster: { nodes: parseRedisNodes(cluster.seeds), options }
})

t.test('the nodes announce the unreachable names to clients', async (t) => {
  const slots = await withNode(cluster.nodes[0]!.port, async (redis) => await redis.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>)
  t.equal(slots.length, 3)
  for (const [, , [host, port]] of slots) t.equal(host, hostOf(port), `slots served by ${host}:${port}`)
})

t.test('with natMap: accepted, listed, read, answered on other instances, callback delivered', async (t) => {
  const brokers = await startBrokers(t, config({ natMap }))
  for (const group of GROUPS.slice(0, 3)) await roundTrip(t, brokers, group, `desk-${group}`)
})

t.test('with natMap in BROKER_REDIS_CLUSTER_OPTIONS (JSON): a broker process is ready', async (t) => {
  const dir = t.testdir({ 'application.yml': 'server:\n  port: 0\n  address: 127.0.0.1\n  ssl:\n    enabled: false\nbroker:\n  store: redis\n' })
  const broker = await spawnBroker({
    args: ['--config', join(dir, 'application.yml')],
    env: { BROKER_REDIS_CLUSTER_NODES: cluster.seeds, BROKER_REDIS_CLUSTER_OPTIONS: JSON.stringify({ natMap }) }
  })
  t.teardown(async () => { await broker.stop('SIGKILL') })
  const ready = await timeUntil(async () => (await fetch(`${broker.url}/hermod/actuator/health/readiness`)).status === 200, 20_000, 100)
  t.ok(ready !== undefined, 'readiness 200', { output: broker.output().slice(-1500) })
  t.equal(await broker.stop('SIGTERM'), 0)
})

t.test('without natMap (a broker process): listens, readiness 503, SIGTERM ends it, the log names what it could not reach', async (t) => {
  const { output } = await unusableStore(t, { BROKER_REDIS_CLUSTER_NODES: cluster.seeds })
  t.match(output, /redis cluster node node-\d+\.hermod\.invalid:\d+: getaddrinfo ENOTFOUND/, 'the unreachable node is named', { output: output.slice(-1500) })
})
