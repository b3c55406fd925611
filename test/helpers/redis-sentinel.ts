// Starts a real Sentinel set for a test file: 1 master, 2 replicas, 3 sentinels on free ports, torn down with it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort, requireRedisServer } from './redis-server.js'
import { RedisProcess, infoField, waitUntil, withNode } from './redis-processes.js'

export const SENTINEL_MASTER = 'hermod-master'

export interface RedisSentinelSet {
  /** The data nodes (index 0 starts as the master). */
  servers: RedisProcess[]
  sentinels: RedisProcess[]
  /** `127.0.0.1:port,...` of the sentinels: what `broker.redis.sentinel.nodes` takes. */
  sentinelNodes: string
  masterName: string
  /** With options.tls: what a client passes as ioredis `tls` (the CA). */
  tls?: { ca: string }
  /** The port the sentinels currently name as master. */
  masterPort (): Promise<number>
  /**
   * SENTINEL FAILOVER, asked again until the sentinels name another master (on a loaded machine the first can be refused,
   * NOGOODSLAVE while the replicas lag behind the load, or not happen); resolves with the old master's port.
   */
  failover (): Promise<number>
  /** Waits until the data node on `port` is a replica in sync with the master (a demoted master has resynced), then waitHealthy(2). */
  resynced (port: number, timeoutMs?: number): Promise<void>
  /** Waits until every sentinel names the same running master that has `replicas` connected replicas. */
  waitHealthy (replicas?: number, timeoutMs?: number): Promise<void>
  destroy (): Promise<void>
}

/** Starts the set and waits until all three sentinels see the master, both replicas and each other. */
export async function startRedisSentinel (
  t: Test, options: { downAfterMs?: number, appendonly?: boolean, tls?: { caPem: string, certPem: string, keyPem: string } } = {}
): Promise<RedisSentinelSet> {
  requireRedisServer()
  const dir = mkdtempSync(join(tmpdir(), 'hermod-sentinel-'))
  // TLS only (data nodes, replication and sentinels: `--port 0 --tls-port`), clients not asked for a certificate.
  const writePem = (name: string, pem: string): string => { writeFileSync(join(dir, name), pem, { mode: 0o600 }); return join(dir, name) }
  const tlsFiles = options.tls === undefined
    ? undefined
    : { cert: writePem('node.crt', options.tls.certPem), key: writePem('node.key', options.tls.keyPem), ca: writePem('ca.crt', options.tls.caPem) }
  const tls = options.tls === undefined ? undefined : { ca: options.tls.caPem }
  const tlsSettings: Array<[string, string]> = tlsFiles === undefined
    ? []
    : [['tls-replication', 'yes'], ['tls-auth-clients', 'no'], ['tls-cert-file', tlsFiles.cert], ['tls-key-file', tlsFiles.key],
        ['tls-ca-cert-file', tlsFiles.ca]]
  const listen = (port: number): Array<[string, string]> => tlsFiles === undefined ? [['port', String(port)]] : [['port', '0'], ['tls-port', String(port)]]
  const ports: number[] = []
  while (ports.length < 6) {
    const port = await freePort()
    if (!ports.includes(port)) ports.push(port)
  }
  const [masterPort, ...rest] = ports as [number, ...number[]]
  const dataArgs = (port: number): string[] => [
    ...[...listen(port), ...tlsSettings].flatMap(([name, value]) => [`--${name}`, value]), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '',
    '--dbfilename', `dump-${port}.rdb`, '--maxmemory-policy', 'noeviction',
    '--appendonly', options.appendonly === true ? 'yes' : 'no', '--appendfilename', `appendonly-${port}.aof`, '--appenddirname', `aof-${port}`,
    '--replica-announce-ip', '127.0.0.1',
    ...(port === masterPort ? [] : ['--replicaof', '127.0.0.1', String(masterPort)])
  ]
  const servers = [masterPort, rest[0]!, rest[1]!].map((port) => new RedisProcess(port, undefined, dataArgs(port), tls))
  const sentinels = rest.slice(2, 5).map((port) => {
    const file = join(dir, `sentinel-${port}.conf`)
    writeFileSync(file, [
      ...[...listen(port), ...tlsSettings].map(([name, value]) => `${name} ${value}`), 'bind 127.0.0.1', `dir ${dir}`, 'sentinel announce-ip 127.0.0.1',
      `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${options.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 10000`, `sentinel parallel-syncs ${SENTINEL_MASTER} 1`, ''
    ].join('\n'))
    return new RedisProcess(port, undefined, [file, '--sentinel'], tls)
  })
  const all = [...servers, ...sentinels]
  const cleanup = (): void => { for (const proc of all) proc.killNow() }
  process.once('exit', cleanup)
  const destroy = async (): Promise<void> => {
    await Promise.all(all.map((proc) => proc.stop('SIGKILL')))
    process.removeListener('exit', cleanup)
    rmSync(dir, { recursive: true, force: true })
  }
  t.teardown(destroy)
  await Promise.all(servers.map((server) => server.start()))
  await Promise.all(sentinels.map((sentinel) => sentinel.start()))

  const named = async (port: number): Promise<number> => await withNode(port, async (redis) => {
    const reply = await redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER) as [string, string] | null
    if (reply === null) throw new Error('master unknown to sentinel')
    return Number(reply[1])
  }, undefined, tls)
  const set: RedisSentinelSet = {
    servers,
    sentinels,
    sentinelNodes: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    masterName: SENTINEL_MASTER,
    ...(tls === undefined ? {} : { tls }),
    masterPort: async () => await named(sentinels.find((s) => s.running)!.port),
    failover: async () => {
      const old = await set.masterPort()
      await waitUntil('the sentinels name a new master', async () => {
        await withNode(sentinels[0]!.port, async (redis) => await redis.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER), undefined, tls).catch(() => {})
        for (let i = 0; i < 12; i++) {
          await new Promise((resolve) => setTimeout(resolve, 250))
          if (await set.masterPort().catch(() => old) !== old) return true
        }
        return false
      })
      return old
    },
    resynced: async (port, timeoutMs = 60_000) => {
      await waitUntil(`:${port} a replica in sync`, async () => {
        const info = await withNode(port, async (redis) => await redis.info('replication'), undefined, tls)
        return infoField(info, 'role') === 'slave' && infoField(info, 'master_link_status') === 'up' && infoField(info, 'master_sync_in_progress') === '0'
      }, timeoutMs)
      await set.waitHealthy(2)
    },
    waitHealthy: async (replicas = 2, timeoutMs = 30_000) => {
      await waitUntil(`sentinels agreeing on a master with ${replicas} replicas`, async () => {
        const views = await Promise.all(sentinels.filter((s) => s.running).map(async (s) => await named(s.port)))
        if (!views.every((v) => v === views[0])) return false
        const master = servers.find((s) => s.port === views[0])
        if (master?.running !== true) return false
        const info = await withNode(master.port, async (redis) => await redis.info('replication'), undefined, tls)
        if (infoField(info, 'role') !== 'master' || Number(infoField(info, 'connected_slaves')) < replicas) return false
        if ((info.match(/^slave\d+:.*state=online/gm) ?? []).length < replicas) return false
        for (const s of sentinels.filter((x) => x.running)) {
          const state = await withNode(s.port, async (redis) => await redis.call('SENTINEL', 'MASTER', SENTINEL_MASTER) as string[], undefined, tls)
          const field = (name: string): string | undefined => state[state.indexOf(name) + 1]
          if (Number(field('num-other-sentinels')) < 2 || Number(field('num-slaves')) < replicas) return false
        }
        return true
      }, timeoutMs)
    },
    destroy
  }
  await set.waitHealthy(2, 60_000)
  return set
}
