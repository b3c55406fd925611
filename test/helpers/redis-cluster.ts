// Starts a real 6-node Redis Cluster (3 masters, 3 replicas) for a test file: own ports and dirs, torn down with it.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConnectionOptions } from 'node:tls'
import type { Test } from 'tap'
import { requireRedisServer } from './redis-server.js'
import { RedisProcess, freePortPairs, infoField, waitUntil, withNode } from './redis-processes.js'

export interface RedisClusterOptions {
  /** `cluster-node-timeout`, ms (default 1000: a dead master is failed over within a few seconds). */
  nodeTimeoutMs?: number
  /** AOF on every node (default off). */
  appendonly?: boolean
  /** `requirepass` and `masterauth` of every node (redis-cli and the helper's own connections use it too). */
  password?: string
  /** Further redis-server arguments of every node, after the helper's own (the last of a repeated one wins). */
  extraArgs?: string[]
  /**
   * TLS only (`--port 0 --tls-port <port> --tls-cluster yes --tls-replication yes`): the nodes' certificate and key, and
   * the CA that signed it, PEM. `clientAuth`: clients must present a certificate of that CA (`--tls-auth-clients yes`;
   * the helper's own connections and redis-cli present the nodes' one), else they are not asked for one.
   */
  tls?: { caPem: string, certPem: string, keyPem: string, clientAuth?: boolean }
  /**
   * The host name each node gives clients instead of its address (`--cluster-announce-hostname <name>
   * --cluster-preferred-endpoint-type hostname`): CLUSTER SLOTS and MOVED name it, the cluster bus and replication keep
   * the real address. A name that does not resolve stands for a node behind NAT (what ioredis's natMap is for).
   */
  announceHostname?: (port: number) => string
}

export interface RedisClusterNode {
  port: number
  process: RedisProcess
}

export interface RedisCluster {
  nodes: RedisClusterNode[]
  /** `127.0.0.1:port,...` of every node: the seed list `broker.redis.cluster.nodes` takes. */
  seeds: string
  /** With options.tls: what a client passes as ioredis `tls` (the CA). */
  tls?: ConnectionOptions
  /** The ports of the current masters (asked of a live node). */
  masters (): Promise<number[]>
  /** The port of a replica of the master on `masterPort`. */
  replicaOf (masterPort: number): Promise<number>
  /** The port of the master that serves `key`'s slot. */
  masterFor (key: string): Promise<number>
  /** Waits until every running node says cluster_state:ok and agrees on the masters, and every replica's link is up. */
  waitHealthy (timeoutMs?: number): Promise<void>
  /** Kills every node and removes the data dir. */
  destroy (): Promise<void>
}

/**
 * Starts six `redis-server --cluster-enabled yes` processes on free ports (their bus ports free too),
 * joins them with `redis-cli --cluster create --cluster-replicas 1` and waits for cluster_state:ok on
 * all of them. The test's teardown destroys it.
 */
export async function startRedisCluster (t: Test, options: RedisClusterOptions = {}): Promise<RedisCluster> {
  requireRedisServer()
  const dir = mkdtempSync(join(tmpdir(), 'hermod-cluster-'))
  const ports = await freePortPairs(6)
  const clientAuth = options.tls?.clientAuth === true
  const tls = options.tls === undefined
    ? undefined
    : { ca: options.tls.caPem, ...(clientAuth ? { cert: options.tls.certPem, key: options.tls.keyPem } : {}) }
  const tlsArgs = (port: number): string[] => {
    if (options.tls === undefined) return ['--port', String(port)]
    const file = (name: string, pem: string): string => { writeFileSync(join(dir, name), pem, { mode: 0o600 }); return join(dir, name) }
    return ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes', '--tls-auth-clients', clientAuth ? 'yes' : 'no',
      '--tls-cert-file', file('node.crt', options.tls.certPem), '--tls-key-file', file('node.key', options.tls.keyPem),
      '--tls-ca-cert-file', file('ca.crt', options.tls.caPem)]
  }
  const announce = (port: number): string[] => options.announceHostname === undefined
    ? []
    : ['--cluster-announce-hostname', options.announceHostname(port), '--cluster-preferred-endpoint-type', 'hostname']
  const nodes: RedisClusterNode[] = ports.map((port) => ({
    port,
    process: new RedisProcess(port, options.password, [
      ...tlsArgs(port), ...announce(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '',
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000), '--maxmemory-policy', 'noeviction',
      '--appendonly', options.appendonly === true ? 'yes' : 'no', '--appendfilename', `appendonly-${port}.aof`,
      '--appenddirname', `aof-${port}`,
      ...(options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password]), ...(options.extraArgs ?? [])
    ], tls)
  }))
  const cleanup = (): void => { for (const node of nodes) node.process.killNow() }
  process.once('exit', cleanup)
  const destroy = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.process.stop('SIGKILL')))
    process.removeListener('exit', cleanup)
    rmSync(dir, { recursive: true, force: true })
  }
  t.teardown(destroy)
  await Promise.all(nodes.map((node) => node.process.start()))
  const auth = [
    ...(options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning']),
    ...(options.tls === undefined ? [] : ['--tls', '--cacert', join(dir, 'ca.crt')]),
    ...(clientAuth ? ['--cert', join(dir, 'node.crt'), '--key', join(dir, 'node.key')] : [])
  ]
  const create = spawnSync('redis-cli', [...auth, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 })
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`)

  const running = (): RedisClusterNode[] => nodes.filter((node) => node.process.running)
  const mastersOf = async (port: number): Promise<number[]> => await withNode(port, async (redis) => {
    const lines = (await redis.call('CLUSTER', 'NODES') as string).split('\n').filter((line) => line.trim() !== '')
    return lines.filter((line) => /\bmaster\b/.test(line.split(' ')[2] ?? '') && !/fail/.test(line.split(' ')[2] ?? '') && line.split(' ').length > 8)
      .map((line) => Number(/:(\d+)@/.exec(line)?.[1])).sort((a, b) => a - b)
  }, options.password, tls)
  const cluster: RedisCluster = {
    nodes,
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ...(tls === undefined ? {} : { tls }),
    masters: async () => await mastersOf(running()[0]!.port),
    replicaOf: async (masterPort) => {
      for (const node of running()) {
        const info = await withNode(node.port, async (redis) => await redis.info('replication'), options.password, tls)
        if (infoField(info, 'role') === 'slave' && Number(infoField(info, 'master_port')) === masterPort) return node.port
      }
      throw new Error(`no running replica of :${masterPort}`)
    },
    masterFor: async (key) => {
      const slot = await withNode(running()[0]!.port, async (redis) => await redis.call('CLUSTER', 'KEYSLOT', key) as number, options.password, tls)
      const slots = await withNode(running()[0]!.port, async (redis) => await redis.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>, options.password, tls)
      const range = slots.find(([from, to]) => slot >= from && slot <= to)
      if (range === undefined) throw new Error(`slot ${slot} has no master`)
      return range[2][1]
    },
    waitHealthy: async (timeoutMs = 30_000) => {
      await waitUntil('cluster_state:ok on every node', async () => {
        const views: string[] = []
        for (const node of running()) {
          const info = await withNode(node.port, async (redis) => await redis.call('CLUSTER', 'INFO') as string, options.password, tls)
          if (infoField(info, 'cluster_state') !== 'ok') return false
          const replication = await withNode(node.port, async (redis) => await redis.info('replication'), options.password, tls)
          if (infoField(replication, 'role') === 'slave' && infoField(replication, 'master_link_status') !== 'up') return false
          views.push((await mastersOf(node.port)).join(','))
        }
        return views.length > 0 && views.every((view) => view === views[0]) && views[0]!.split(',').length === 3
      }, timeoutMs)
    },
    destroy
  }
  await cluster.waitHealthy(60_000)
  return cluster
}
