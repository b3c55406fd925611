// Three broker instances on one Redis act as one broker: every command exactly one terminal callback, none lost or doubled.
import t from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { startReceiver, waitFor, sleep } from '../callbacks/helpers.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

t.test('3 instances, requests spread across them, callbacks counted at a real receiver', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const config = testConfig({
    allowedClients: testClients(`${receiver.url}/cb`),
    broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} }, sweepIntervalMs: 50 }
  })
  const brokers: Broker[] = []
  for (let i = 0; i < 3; i++) {
    const broker = await createBroker(config)
    t.teardown(() => broker.close())
    broker.start()
    await broker.app.ready()
    brokers.push(broker)
  }
  const on = (i: number): Broker => brokers[i % 3]!
  const key = apiKeyHeader('prime', KEYS.prime)

  // Long polling across instances: a device waits on instance 2, the command is posted on instance 0.
  const first = (await on(0).app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader: { to: ['poller'] } } })).json()
  const pd = first.destinations[0]
  await on(1).app.inject({ method: 'POST', url: `/hermod/rest/ms/${pd.bid}/${pd.mid}`, payload: { status: 'OK' } })
  const token = new URL(pd.uri).searchParams.get('token')
  const polling = on(2).app.inject({ url: `/hermod/rest/ms/${pd.bid}?token=${token}&wait=20` })
  await sleep(200)
  const second = (await on(0).app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader: { to: ['poller'] } } })).json()
  const woken = await polling
  t.same(woken.json().messages.map((m: { mid: string }) => m.mid), [second.destinations[0].mid], 'a long poll on one instance wakes for a message accepted on another')
  await on(1).app.inject({ method: 'DELETE', url: `/hermod/rest/command/${second.commandId}`, headers: { 'x-api-key': key } })

  const N = 150
  const expected = new Map<string, string>([[first.commandId, 'COMPLETED'], [second.commandId, 'CANCELLED']])
  await Promise.all(Array.from({ length: N }, async (_, i) => {
    const kind = i % 3
    const accepted = (await on(i).app.inject({
      method: 'POST',
      url: '/hermod/rest/command/authenticate',
      headers: { 'x-api-key': key },
      payload: { commandHeader: { timeout: kind === 2 ? 1 : 60, lifespan: 60 }, authCommand: { n: i } }
    })).json()
    const d = accepted.destinations[0]
    if (kind === 0) {
      t.equal((await on(i + 1).app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })).statusCode, 200)
      const answer = await on(i + 2).app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: i % 2 === 0 ? 'OK' : 'REJECTED', response: { i } } })
      expected.set(accepted.commandId, answer.json().state)
    } else if (kind === 1) {
      const cancel = await on(i + 1).app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': apiKeyHeader('hag', KEYS.hag) } })
      t.equal(cancel.statusCode, 200)
      expected.set(accepted.commandId, 'CANCELLED')
    } else {
      expected.set(accepted.commandId, 'TIMEOUT')
    }
  }))
  t.equal(expected.size, N + 2, 'command ids are unique across instances')
  await waitFor(() => receiver.requests.length >= expected.size, 30_000, 'every callback')
  await sleep(1500)
  const byCommand = new Map<string, string[]>()
  for (const r of receiver.requests) {
    const body = JSON.parse(r.body)
    byCommand.set(body.commandId, [...(byCommand.get(body.commandId) ?? []), body.state])
  }
  t.equal(receiver.requests.length, expected.size, 'no callback doubled')
  const wrong = [...expected].filter(([id, state]) => byCommand.get(id)?.length !== 1 || byCommand.get(id)?.[0] !== state)
  t.same(wrong, [], 'every command: exactly one callback, with its terminal state')
  const ids = new Set(receiver.requests.map((r) => r.headers['webhook-id']))
  t.equal(ids.size, expected.size, 'one webhook-id per command')
})
