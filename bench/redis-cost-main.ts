// `npm run bench:redis-cost`: Redis CPU per operation on a private redis-server (--cluster: a private 6-node Redis Cluster),
// printed as a Markdown table.
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { parseArgs } from 'node:util'
import { startPrivateCluster } from '../src/bench/redis-cluster.js'
import { startPrivateRedis } from '../src/bench/redis-server.js'
import { clusterTarget, formatRedisCost, measureRedisCost } from './redis-cost.js'

async function main (): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { count: { type: 'string' }, out: { type: 'string' }, 'cluster-enabled': { type: 'boolean' }, cluster: { type: 'boolean' } }
  })
  const count = values.count === undefined ? 5_000 : Number(values.count)
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('--count is an integer, 1..1000000')
  if (values.cluster === true) {
    if (values['cluster-enabled'] === true) throw new Error('--cluster or --cluster-enabled, not both')
    await onCluster(count, values.out)
    return
  }
  // --cluster-enabled: one node in cluster mode holding every slot, so the store's plain connection needs no redirects
  // and what is measured is what cluster mode adds per command (slot checks of every key a script touches).
  const clustered = values['cluster-enabled'] === true
  const redis = await startPrivateRedis(clustered ? { extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${process.pid}.conf`] } : {})
  try {
    if (clustered) await takeAllSlots(redis.url)
    process.stderr.write(`redis-server ${redis.version} on ${redis.url}, ${count} operations each\n`)
    const result = await measureRedisCost(redis, { count })
    if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`${formatRedisCost(result)}\n`)
  } finally {
    await redis.stop()
  }
}

/**
 * --cluster: the private 6-node Redis Cluster (3 masters, 3 replicas), the store and BullMQ on it as a broker is
 * (callbacks over 8 queue shards); the masters' commandstats and CPU summed.
 */
async function onCluster (count: number, out: string | undefined): Promise<void> {
  const cluster = await startPrivateCluster()
  try {
    const target = await clusterTarget(cluster)
    try {
      process.stderr.write(`${target.topology} on ${cluster.seeds}, ${count} operations each\n`)
      process.stderr.write(`idle: masters ${target.idleCores.main.toFixed(3)} cores, replicas ${target.idleCores.replicas.toFixed(3)} (subtracted)\n`)
      const result = await measureRedisCost(target, { count })
      if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
      process.stdout.write(`${formatRedisCost(result)}\n`)
    } finally {
      await target.close()
    }
  } finally {
    await cluster.stop()
  }
}

/** Gives the one node every slot and waits for cluster_state:ok. */
async function takeAllSlots (url: string): Promise<void> {
  const admin = new Redis(url)
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    for (let i = 0; i < 200; i++) {
      if (/cluster_state:ok/.test(await admin.call('CLUSTER', 'INFO') as string)) return
      await sleep(50)
    }
    throw new Error('the one-node cluster did not reach cluster_state:ok')
  } finally {
    admin.disconnect()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:redis-cost: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
