// Three brokers on a real Sentinel set (1 master, 2 replicas, 3 sentinels): steady load, then SIGKILL of the master,
// without and with wait-replicas. Counts acknowledged commands lost, checks callbacks (one terminal event each).
import t from 'tap'
import type { RedisConfig } from '../../src/config/types.js'
import { startRedisSentinel, type RedisSentinelSet } from '../helpers/redis-sentinel.js'
import { failureScenario, sentinelConfig, startBrokers } from './topology-load.js'

t.setTimeout(170_000)

const set = await startRedisSentinel(t)
const config = (waitReplicas: number): RedisConfig => sentinelConfig(set, waitReplicas, 500)

/** SIGKILLs the current master, waits for the sentinels to promote a replica, restarts the old one (it rejoins as a replica). */
async function killMaster (s: RedisSentinelSet): Promise<void> {
  const port = await s.masterPort()
  const master = s.servers.find((server) => server.port === port)!
  await master.stop('SIGKILL')
  await s.waitHealthy(1)
  await master.start()
}

t.test('without wait-replicas: steady, then SIGKILL of the master', async (t) => {
  const brokers = await startBrokers(t, config(0))
  const steady = await failureScenario(t, brokers, undefined, { warmupMs: 2_000, maxMs: 20_000 })
  t.same([steady.lost, steady.unexpected, steady.wrongCallbacks], [[], [], []], 'steady: nothing lost, every command one terminal callback')
  const killed = await failureScenario(t, brokers, async () => { await killMaster(set) }, { warmupMs: 1_500, maxMs: 30_000 })
  t.same([killed.unexpected, killed.wrongCallbacks], [[], []], 'only 503s during the failover; every surviving command one terminal callback')
  t.comment(`without wait-replicas, SIGKILL of the master: ${killed.lost.length} of ${killed.accepted} acknowledged commands lost`)
  await set.waitHealthy(2)
})

t.test('wait-replicas 1: a SIGKILLed master loses no acknowledged command', async (t) => {
  const brokers = await startBrokers(t, config(1))
  const killed = await failureScenario(t, brokers, async () => { await killMaster(set) }, { warmupMs: 1_500, maxMs: 30_000 })
  t.same(killed.lost, [], 'every acknowledged command survived')
  t.same([killed.unexpected, killed.wrongCallbacks], [[], []], 'callbacks whole')
})
