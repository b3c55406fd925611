// Long polls across a Sentinel failover (1 master, 2 replicas, 3 sentinels): devices wait (wait=30) on named boxes of every
// group through one broker, the master is failed over (SENTINEL FAILOVER, then SIGKILL), commands are posted through
// another broker: every device gets its message well before its poll's 30 s deadline (the subscriber follows the master,
// and the boxes waited on are woken once it is subscribed again).
import t from 'tap'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { phase } from './long-poll-failover.js'
import { sentinelConfig, startBrokers } from './topology-load.js'

t.setTimeout(170_000)

const set = await startRedisSentinel(t)

t.test('SENTINEL FAILOVER, then SIGKILL of the master, under waiting long polls', async (t) => {
  const brokers = await startBrokers(t, sentinelConfig(set, 0, 500))
  let oldMaster = await set.masterPort()
  await phase(t, brokers, 'failover', async () => {
    await set.failover()
  }, async () => { await set.resynced(oldMaster) })
  oldMaster = await set.masterPort()
  const killed = set.servers.find((server) => server.port === oldMaster)!
  await phase(t, brokers, 'sigkill', async () => {
    await killed.stop('SIGKILL')
    await set.waitHealthy(1)
    await killed.start() // it rejoins as a replica
  }, async () => { await set.resynced(oldMaster) })
})
