// R5 at the API: Redis full under noeviction. Accept answers a fast 503 HERMOD_STORE_UNAVAILABLE (never a 500),
// nothing partial is stored, and the broker keeps serving status queries, device reads, listings and answers.
import t from 'tap'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { freePort, startRedis } from '../helpers/redis-server.js'
import { adminClient, freshPrefix, keysOf } from '../helpers/redis-store-fixtures.js'
import {
  Api, acceptedFrom, checkStoreConsistency, checkWhole, kind, ms, runLoad, sleep, startBrokerProcess, tally, tallyCallbacks,
  writeBrokerConfig, type Accepted, type Outcome
} from './helpers.js'

t.test('R5: Redis out of memory (noeviction) at the API', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const admin = adminClient(t, redis.url)
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const prefix = freshPrefix()
  const file = writeBrokerConfig(t.testdir(), { redisUrl: redis.url, prefix, callbackUrl: `${receiver.url}/cb` })
  const broker = await startBrokerProcess(file, await freePort())
  t.teardown(() => broker.stop('SIGKILL'))
  const api = new Api(broker.url, { timeoutMs: 5_000 })
  t.teardown(() => api.close())

  const accepted: Accepted[] = []
  for (let i = 0; i < 6; i++) {
    const o = await api.post('sign', { commandHeader: { timeout: 600, to: i % 2 === 0 ? ['@tmp', 'kim'] : ['@tmp'], externalId: `early-${i}` }, signCommand: { i } })
    t.equal(o.status, 200, `early command ${i} accepted`)
    accepted.push(acceptedFrom(o, `early-${i}`))
  }

  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
  await admin.config('SET', 'maxmemory', String(used + 512 * 1024))
  t.teardown(() => admin.config('SET', 'maxmemory', '0'))
  const tbs = 'x'.repeat(8192)
  // Four concurrent posters fill it up; each goes on until 20 refusals were seen in all.
  const refused: Outcome[] = []
  const load = runLoad({ workers: 4, maxIterations: 2_000, maxMs: 30_000 }, async (i) => {
    const externalId = `fill-${i}`
    const o = await api.post('sign', { commandHeader: { timeout: 600, to: i % 3 === 0 ? ['kim', '@tmp'] : ['@tmp'], externalId }, signCommand: { params: { tbs } } })
    if (o.status === 200) accepted.push(acceptedFrom(o, externalId))
    else refused.push(o)
    if (refused.length >= 20) load.stop()
  })
  await load.done
  const filled = accepted.length
  // Small commands may still fit now and then (noeviction refuses a write only while used_memory is over the limit).
  for (let i = 0; i < 10; i++) {
    const o = await api.post('ping', undefined)
    if (o.status === 200) accepted.push(acceptedFrom(o))
    else refused.push(o)
  }
  const slowest = Math.max(...refused.map((o) => o.doneAt - o.sentAt))
  t.comment(`Redis full after ${filled} commands; then ${JSON.stringify(tally(refused))}, slowest refusal ${ms(slowest)}`)
  t.ok(refused.length >= 20, 'Redis filled up')
  t.same(refused.filter((o) => !(o.status === 503 && o.json?.code === 'HERMOD_STORE_UNAVAILABLE')).map(kind), [], 'every refused accept: 503 HERMOD_STORE_UNAVAILABLE, never a 500')
  t.ok(refused.every((o) => o.headers?.['retry-after'] !== undefined), 'with Retry-After')
  t.ok(slowest < 1_000, 'each refused within 1 s')

  // Nothing partial: exactly the 2xx commands have records, and each is whole.
  const records = (await keysOf(admin, prefix)).filter((k) => k.includes('}:c:'))
  t.equal(records.length, accepted.length, 'a record for every 2xx accept and none for a refused one')
  const store = await checkStoreConsistency(redis.url, prefix, api)
  t.same(store.problems, [], 'records, deadlines, box index and box entries agree')
  const whole = await checkWhole(api, accepted, () => ['IN_PROGRESS'])
  t.same([...whole.missing.map((a) => a.commandId), ...whole.problems], [], 'while full, status queries, device reads and listings of every 2xx command answer')
  const readiness = await api.health('/readiness')
  t.comment(`readiness while Redis is full: ${kind(readiness)} ${JSON.stringify(readiness.json)}`)

  // Devices answer while full; the callback follows once Redis has room for the queue again.
  const d = accepted[0]!.destinations[0]!
  const answer = await api.answer(d.bid, d.mid, 'OK', { signature: 'sig' })
  t.equal(answer.status, 200, `a device answers while Redis is full (${kind(answer)})`)
  const decided = await api.status(accepted[0]!.commandId)
  t.equal(decided.json?.state, 'COMPLETED', 'and the status query shows it')

  await sleep(1_000)
  t.comment(`callbacks delivered while Redis was still full: ${receiver.requests.length} (the queue needs room in Redis)`)
  await admin.config('SET', 'maxmemory', '0')
  const again = await api.post('sign', { commandHeader: { timeout: 600 }, signCommand: {} })
  t.equal(again.status, 200, `accepts again once there is room (${kind(again)})`)
  await waitFor(() => receiver.requests.length >= 1, 10_000, 'the callback').catch(() => {})
  t.same(tallyCallbacks(receiver.requests).states.get(accepted[0]!.commandId), ['COMPLETED'], 'the callback of the answer given while full is delivered')
})
