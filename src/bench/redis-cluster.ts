// The bench's own 6-node Redis Cluster (3 masters, 3 replicas): free ports, a temp dir, nothing persisted; never the shared 6379.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis, type RedisOptions } from 'ioredis'
import { spawnOwned, type OwnedChild } from './child-process.js'
import { pinnedCommand } from './cpu-pinning.js'
import { freePortPairs } from './free-port.js'
import { redisServerVersion } from './redis-server.js'

/** One node of the private cluster. */
export interface PrivateClusterNode {
  port: number
  pid: number
}

/** A private Redis Cluster the bench started; `flushAll` is safe because nothing else uses it. */
export interface PrivateCluster {
  /** `127.0.0.1:port,...` of every node: what `broker.redis.cluster.nodes` takes. */
  seeds: string
  nodes: PrivateClusterNode[]
  version: string
  /** The nodes that are masters now (asked of each node: `role:master`). */
  masters (): Promise<PrivateClusterNode[]>
  /** FLUSHALL on every master (the replicas follow). */
  flushAll (): Promise<void>
  stop (): Promise<void>
}

/** One short-lived connection to a node on 127.0.0.1, for admin commands; `options` add to it (password, tls, ...). */
export async function onNode<T> (port: number, fn: (redis: Redis) => Promise<T>, options: RedisOptions = {}): Promise<T> {
  const redis = new Redis({
    port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 2000, ...options
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return await fn(redis)
  } finally {
    redis.disconnect()
  }
}

async function answersPing (port: number): Promise<boolean> {
  try {
    return await onNode(port, async (redis) => await redis.ping() === 'PONG')
  } catch {
    return false
  }
}

/** Every node says cluster_state:ok and every replica's link to its master is up. */
async function healthy (ports: number[]): Promise<boolean> {
  try {
    for (const port of ports) {
      const state = await onNode(port, async (redis) => [await redis.call('CLUSTER', 'INFO') as string, await redis.info('replication')])
      if (!/^cluster_state:ok/m.test(state[0]!)) return false
      if (/^role:slave/m.test(state[1]!) && !/^master_link_status:up/m.test(state[1]!)) return false
    }
    return true
  } catch {
    return false
  }
}

/**
 * Starts six `redis-server --cluster-enabled yes` on free ports (bus ports free too), on `options.cpus` when given,
 * joins them with `redis-cli --cluster create --cluster-replicas 1 --cluster-yes` and resolves at cluster_state:ok.
 * @throws when redis-server or redis-cli is missing, or the cluster does not form within 60 s
 */
export async function startPrivateCluster (options: { cpus?: string } = {}): Promise<PrivateCluster> {
  const version = redisServerVersion()
  if (version === null) throw new Error('redis-server is not installed or not on PATH (apt-get install redis-server)')
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' })
  if (cli.error !== undefined || cli.status !== 0) throw new Error('redis-cli is not installed or not on PATH (apt-get install redis-tools)')
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-cluster-'))
  const ports = await freePortPairs(6)
  const children: OwnedChild[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(async (child) => await child.stop('SIGTERM', 5_000)))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) {
      const run = pinnedCommand(options.cpus, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'])
      children.push(spawnOwned(run.command, run.args))
    }
    for (const [i, port] of ports.entries()) {
      const deadline = Date.now() + 10_000
      while (!await answersPing(port)) {
        if (children[i]!.child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`cluster node :${port} did not start: ${children[i]!.output().trim().split('\n').pop() ?? ''}`)
        }
        await sleep(50)
      }
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 })
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${`${create.stdout}${create.stderr}`.trim().split('\n').pop() ?? ''}`)
    const deadline = Date.now() + 60_000
    while (!await healthy(ports)) {
      if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok within 60 s')
      await sleep(100)
    }
  } catch (err) {
    await stop()
    throw err
  }
  const nodes = ports.map((port, i) => ({ port, pid: children[i]!.pid }))
  const masters = async (): Promise<PrivateClusterNode[]> => {
    const roles = await Promise.all(nodes.map(async (node) => await onNode(node.port, async (redis) => await redis.info('replication'))))
    return nodes.filter((_node, i) => /^role:master/m.test(roles[i]!))
  }
  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    nodes,
    version,
    masters,
    async flushAll () {
      for (const node of await masters()) await onNode(node.port, async (redis) => await redis.flushall())
    },
    stop
  }
}
