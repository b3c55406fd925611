// R4: a broker process started while its Redis is not running stays up (liveness UP, readiness 503 DOWN,
// accepts a fast 503); once Redis starts it is ready within 5 s, accepts commands and delivers callbacks.
import t from 'tap'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { freePort, startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { Api, kind, ms, sleep, startBrokerProcess, tally, tallyCallbacks, timeUntil, writeBrokerConfig, type Outcome } from './helpers.js'

t.test('R4: Redis down when the broker starts', async (t) => {
  const redisPort = await freePort()
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const file = writeBrokerConfig(t.testdir(), { redisUrl: `redis://127.0.0.1:${redisPort}`, prefix: freshPrefix(), callbackUrl: `${receiver.url}/cb` })
  const started = performance.now()
  const broker = await startBrokerProcess(file, await freePort())
  t.teardown(() => broker.stop('SIGKILL'))
  t.comment(`listening ${ms(performance.now() - started)} after spawn, with no Redis`)
  const api = new Api(broker.url, { timeoutMs: 5_000 })
  t.teardown(() => api.close())

  const probes: Record<'liveness' | 'readiness' | 'health' | 'accept', Outcome[]> = { liveness: [], readiness: [], health: [], accept: [] }
  const observeUntil = performance.now() + 2_000
  while (performance.now() < observeUntil) {
    probes.liveness.push(await api.health('/liveness'))
    probes.readiness.push(await api.health('/readiness'))
    probes.health.push(await api.health(''))
    probes.accept.push(await api.post('sign', { signCommand: {} }))
    await sleep(200)
  }
  t.equal(broker.child.exitCode, null, 'the process stays up')
  t.ok(probes.liveness.every((o) => o.status === 200 && o.json?.status === 'UP'), `liveness 200 UP (${JSON.stringify(tally(probes.liveness))})`)
  t.ok(probes.readiness.every((o) => o.status === 503 && o.json?.status === 'DOWN' && o.json?.components?.store?.status === 'DOWN'), `readiness 503 DOWN, store DOWN (${JSON.stringify(tally(probes.readiness))})`)
  t.ok(probes.health.every((o) => o.status === 503 && o.json?.status === 'DOWN'), 'overall health 503 DOWN')
  t.ok(probes.accept.every((o) => o.status === 503 && o.json?.code === 'HERMOD_STORE_UNAVAILABLE'), `accept: 503 HERMOD_STORE_UNAVAILABLE (${JSON.stringify(tally(probes.accept))})`)
  const slowest = Math.max(...probes.accept.map((o) => o.doneAt - o.sentAt))
  t.ok(slowest < 1_000, `each accept refused within 1 s (slowest ${ms(slowest)})`)

  const redisStarted = performance.now()
  const redis = await startRedis({ port: redisPort, appendonly: true })
  t.teardown(() => redis.destroy())
  const redisUp = performance.now()
  const ready = await timeUntil(async () => (await api.health('/readiness')).status === 200, 15_000)
  t.comment(`redis-server answered PING ${ms(redisUp - redisStarted)} after its start; the broker was ready ${ms(ready)} later`)
  t.ok(ready !== undefined && ready < 5_000, 'ready within 5 s of Redis coming up')
  t.equal(broker.child.exitCode, null, 'still the same process')

  const accepted = await api.post('sign', { commandHeader: { timeout: 30, externalId: 'after-start' }, signCommand: { tbs: 'eA==' } })
  t.equal(accepted.status, 200, `a command is accepted (${kind(accepted)})`)
  const d = accepted.json.destinations[0]
  t.equal((await api.read(d.bid, d.mid)).status, 200, 'the device reads it')
  t.equal((await api.answer(d.bid, d.mid, 'OK', { signature: 'x' })).status, 200, 'and answers it')
  await waitFor(() => receiver.requests.length >= 1, 10_000, 'the callback').catch(() => {})
  const callbacks = tallyCallbacks(receiver.requests)
  t.same(callbacks.states.get(String(accepted.json.commandId)), ['COMPLETED'], 'the callback worker, started without Redis, delivers')
})
