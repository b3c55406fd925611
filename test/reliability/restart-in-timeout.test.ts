// R8: commands accepted, the broker SIGKILLed at once and restarted after their deadline: the TIMEOUT callbacks
// still reach a real receiver, exactly once each; commands whose deadline falls after the restart time out on time.
import t from 'tap'
import { once } from 'node:events'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { freePort, startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { Api, acceptedFrom, kind, ms, pct, sleep, startBrokerProcess, tallyCallbacks, writeBrokerConfig, type Accepted } from './helpers.js'

const OVERDUE = 40 // timeout 3 s: due while the broker is dead
const LATER = 20 // timeout 20 s: due after the restart

t.test('R8: the broker restarts inside a timeout window', async (t) => {
  const redis = await startRedis({ appendonly: true, appendfsync: 'always' })
  t.teardown(() => redis.destroy())
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const file = writeBrokerConfig(t.testdir(), { redisUrl: redis.url, prefix: freshPrefix(), callbackUrl: `${receiver.url}/cb` })
  const port = await freePort()

  const first = await startBrokerProcess(file, port)
  const api = new Api(first.url)
  t.teardown(() => api.close())
  const post = async (timeout: number, i: number): Promise<Accepted> => {
    const externalId = `t${timeout}-${i}`
    const o = await api.post('sign', { commandHeader: { timeout, lifespan: 60, externalId, to: i % 4 === 0 ? ['@tmp', `user-${i}`] : ['@tmp'] }, signCommand: { i } })
    if (o.status !== 200) throw new Error(`accept failed: ${kind(o)}`)
    return acceptedFrom(o, externalId)
  }
  const overdue = await Promise.all(Array.from({ length: OVERDUE }, async (_, i) => await post(3, i)))
  const later = await Promise.all(Array.from({ length: LATER }, async (_, i) => await post(20, i)))
  const exited = once(first.child, 'exit')
  first.child.kill('SIGKILL')
  await exited
  const killedWall = Date.now()
  t.equal(receiver.requests.length, 0, 'no callback before the kill')

  // Restart only once every overdue deadline has passed.
  const firstDeadline = Math.min(...overdue.map((a) => a.wallAt)) + 3_000
  const lastOverdue = Math.max(...overdue.map((a) => a.wallAt)) + 3_000
  await sleep(Math.max(0, lastOverdue + 500 - Date.now()))
  const restartWall = Date.now()
  const second = await startBrokerProcess(file, port)
  t.teardown(() => second.stop('SIGKILL'))
  const listeningWall = Date.now()
  t.comment(`killed ${killedWall - Math.max(...[...overdue, ...later].map((a) => a.wallAt))} ms after the last accept; ` +
    `restarted ${restartWall - firstDeadline} ms after the first deadline, listening ${listeningWall - restartWall} ms later`)

  const overdueIds = new Set(overdue.map((a) => a.commandId))
  await waitFor(() => { const c = tallyCallbacks(receiver.requests); return [...overdueIds].every((id) => c.ids.has(id)) }, 15_000, 'the overdue callbacks').catch(() => {})
  const overdueAt = receiver.requests.filter((r) => overdueIds.has(JSON.parse(r.body).commandId)).map((r) => r.at - listeningWall)
  t.comment(`overdue TIMEOUT callbacks: ${overdueAt.length} of ${OVERDUE} arrived, the last ${ms(Math.max(...overdueAt))} after the restarted broker listened`)
  const statuses = await Promise.all(overdue.map(async (a) => await api.status(a.commandId)))
  t.same(statuses.filter((s) => s.json?.state !== 'TIMEOUT').map(kind), [], 'every overdue command is TIMEOUT')
  const reads = await Promise.all(overdue.map(async (a) => await api.read(a.destinations[0]!.bid, a.destinations[0]!.mid)))
  t.ok(reads.every((r) => r.status === 410), 'and its device read answers 410')

  const laterIds = new Set(later.map((a) => a.commandId))
  const laterDue = Math.max(...later.map((a) => a.wallAt)) + 20_000
  t.ok(Date.now() < laterDue - 1_000, 'the later commands were still pending after the restart')
  t.ok(!receiver.requests.some((r) => laterIds.has(JSON.parse(r.body).commandId)), 'and were not called back early')
  await waitFor(() => { const c = tallyCallbacks(receiver.requests); return [...laterIds].every((id) => c.ids.has(id)) }, laterDue - Date.now() + 10_000, 'the later callbacks').catch(() => {})
  await sleep(1_500)

  const callbacks = tallyCallbacks(receiver.requests)
  const wrong = [...overdue, ...later].filter((a) => JSON.stringify(callbacks.states.get(a.commandId)) !== '["TIMEOUT"]')
  t.same(wrong.map((a) => `${a.commandId}: ${JSON.stringify(callbacks.states.get(a.commandId))}`), [], 'every command: exactly one callback event, TIMEOUT')
  t.equal(callbacks.deliveries, OVERDUE + LATER, 'and exactly one delivery each')
  t.same([...callbacks.ids.keys()].filter((id) => !overdueIds.has(id) && !laterIds.has(id)), [], 'no callback for anything else')
  // The sweeper's lateness for the commands due after the restart: finishedAt - (createdAt + timeout).
  const lateness = receiver.requests.filter((r) => laterIds.has(JSON.parse(r.body).commandId)).map((r) => {
    const body = JSON.parse(r.body) as { createdAt: string, finishedAt: string }
    return Date.parse(body.finishedAt) - Date.parse(body.createdAt) - 20_000
  })
  t.comment(`commands due after the restart: TIMEOUT written ${ms(pct(lateness, 50))} (p50) / ${ms(Math.max(...lateness))} (max) after the deadline`)
  t.ok(lateness.every((l) => l >= 0 && l < 1_000), 'on time: within 1 s of the deadline, never before it')
})
