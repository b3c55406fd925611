// `hermod-broker start` refuses a Redis mode that does not match the server (standalone URL at a Cluster node, cluster
// seeds at a standalone Redis, an unknown Sentinel master name) with exit 1, why, and what to set; a matching mode starts.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { startRedis } from '../helpers/redis-server.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

/** Runs `start` until it exits or prints `until` (then SIGTERM): exit code, output, whether it printed `until`. */
async function runStart (
  args: string[], env: Record<string, string> = {}, until?: RegExp
): Promise<{ code: number | null, out: string, reached: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--set', 'broker.log.pretty=false', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let reached = false
  const onData = (chunk: Buffer): void => {
    out += chunk.toString()
    if (until !== undefined && !reached && until.test(out)) {
      reached = true
      child.kill('SIGTERM')
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, out, reached }
}

const config = (t: Test): string =>
  join(t.testdir({ 'application.yml': 'server:\n  port: 0\n  address: 127.0.0.1\n  ssl:\n    enabled: false\nbroker:\n  store: redis\n' }), 'application.yml')

t.test('Redis Cluster', async (t) => {
  const cluster = await startRedisCluster(t)
  const node = cluster.nodes[0]!.port

  t.test('a standalone URL pointing at a cluster node: exit 1, says to set the cluster nodes', async (t) => {
    const result = await runStart(['--config', config(t)], { BROKER_REDIS_URL: `redis://127.0.0.1:${node}` })
    t.equal(result.code, 1, 'exit code 1', { output: result.out.slice(-600) })
    t.match(result.out, /broker\.redis\.url points at a Redis Cluster node \(INFO cluster says cluster_enabled:1\)/)
    t.match(result.out, /BROKER_REDIS_CLUSTER_NODES=host:port/)
    t.notMatch(result.out, /listening/)
  })

  t.test('the cluster nodes from the Spring-style variable: the broker starts', async (t) => {
    const result = await runStart(['--config', config(t)], { BROKER_REDIS_CLUSTER_NODES: cluster.seeds }, /hermod-broker listening/)
    t.ok(result.reached, 'it listened', { output: result.out.slice(-600) })
    t.notMatch(result.out, /cluster_enabled/)
  })

  t.test('another number of group buckets than the data was written with: exit 1, says why and what to do', async (t) => {
    const env = { BROKER_REDIS_CLUSTER_NODES: cluster.seeds, BROKER_REDIS_PREFIX: `buckets${process.pid}` }
    const first = await runStart(['--config', config(t)], { ...env, BROKER_REDIS_CLUSTER_GROUPBUCKETS: '16' }, /hermod-broker listening/)
    t.ok(first.reached, 'the first instance writes its layout and starts', { output: first.out.slice(-600) })
    const other = await runStart(['--config', config(t)], { ...env, BROKER_REDIS_CLUSTER_GROUPBUCKETS: '32' })
    t.equal(other.code, 1, 'exit code 1', { output: other.out.slice(-600) })
    t.match(other.out, /written with key layout group-buckets=16, this instance uses group-buckets=32/)
    t.notMatch(other.out, /listening/)
  })
})

t.test('cluster nodes naming a standalone Redis: exit 1, says to use broker.redis.url', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const result = await runStart(['--config', config(t)], { BROKER_REDIS_CLUSTER_NODES: `127.0.0.1:${redis.port}` })
  t.equal(result.code, 1, 'exit code 1', { output: result.out.slice(-600) })
  t.match(result.out, new RegExp(`broker\\.redis\\.cluster\\.nodes names 127\\.0\\.0\\.1:${redis.port}, which is a standalone Redis \\(cluster_enabled:0\\)`))
  t.match(result.out, /set broker\.redis\.url/)
})

t.test('Sentinel', async (t) => {
  const sentinel = await startRedisSentinel(t)

  t.test('an unknown master name: exit 1, says which name the sentinels monitor', async (t) => {
    const result = await runStart(['--config', config(t)], { BROKER_REDIS_SENTINEL_MASTER: 'no-such-master', BROKER_REDIS_SENTINEL_NODES: sentinel.sentinelNodes })
    t.equal(result.code, 1, 'exit code 1', { output: result.out.slice(-600) })
    t.match(result.out, /the sentinels do not know a master named "no-such-master"/)
    t.match(result.out, /sentinel monitor <name>/)
  })

  t.test('a standalone URL pointing at a sentinel: exit 1', async (t) => {
    const result = await runStart(['--config', config(t)], { BROKER_REDIS_URL: `redis://127.0.0.1:${sentinel.sentinels[0]!.port}` })
    t.equal(result.code, 1, 'exit code 1', { output: result.out.slice(-600) })
    t.match(result.out, /points at a Redis Sentinel/)
  })

  t.test('the sentinel settings from the Spring-style variables: the broker starts', async (t) => {
    const result = await runStart(['--config', config(t)], { BROKER_REDIS_SENTINEL_MASTER: sentinel.masterName, BROKER_REDIS_SENTINEL_NODES: sentinel.sentinelNodes }, /hermod-broker listening/)
    t.ok(result.reached, 'it listened', { output: result.out.slice(-600) })
  })
})
