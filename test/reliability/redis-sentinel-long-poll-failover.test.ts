// Long polls across a Sentinel failover (1 master, 2 replicas, 3 sentinels): devices wait (wait=30) on named boxes of every
// group through one broker, the master is failed over (SENTINEL FAILOVER, then SIGKILL), commands are posted through
// another broker: every device gets its message well before its poll's 30 s deadline (the subscriber follows the master,
// and the boxes waited on are woken once it is subscribed again).
import t from 'tap'
import { infoField, waitUntil, withNode } from '../helpers/redis-processes.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { phase } from './long-poll-failover.js'
import { sentinelConfig, startBrokers } from './topology-load.js'

t.setTimeout(170_000)

const set = await startRedisSentinel(t)

/** Until `port` is a replica in sync with the current master, and both replicas are linked. */
async function replicaAgain (port: number): Promise<void> {
  await waitUntil(`:${port} a replica in sync again`, async () => {
    const info = await withNode(port, async (redis) => await redis.info('replication'))
    return infoField(info, 'role') === 'slave' && infoField(info, 'master_link_status') === 'up' && infoField(info, 'master_sync_in_progress') === '0'
  }, 60_000)
  await set.waitHealthy(2)
}

t.test('SENTINEL FAILOVER, then SIGKILL of the master, under waiting long polls', async (t) => {
  const brokers = await startBrokers(t, sentinelConfig(set, 0, 500))
  let oldMaster = await set.masterPort()
  await phase(t, brokers, 'failover', async () => {
    // Asked again until the sentinels name another master (a loaded machine can refuse the first: NOGOODSLAVE).
    await waitUntil('the sentinels name a new master', async () => {
      await withNode(set.sentinels[0]!.port, async (redis) => await redis.call('SENTINEL', 'FAILOVER', set.masterName)).catch(() => {})
      for (let i = 0; i < 12; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        if (await set.masterPort().catch(() => oldMaster) !== oldMaster) return true
      }
      return false
    })
  }, async () => { await replicaAgain(oldMaster) })
  oldMaster = await set.masterPort()
  const killed = set.servers.find((server) => server.port === oldMaster)!
  await phase(t, brokers, 'sigkill', async () => {
    await killed.stop('SIGKILL')
    await set.waitHealthy(1)
    await killed.start() // it rejoins as a replica
  }, async () => { await replicaAgain(oldMaster) })
})
