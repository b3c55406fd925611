// End to end on the embedded store: post, answer or time out, and count callbacks at a real receiver (R7, R16).
import t, { type Test } from 'tap'
import { Webhook } from 'standardwebhooks'
import { createBroker } from '../../src/server/broker.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { startReceiver, waitFor, sleep, captureLogger } from '../callbacks/helpers.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

async function setup (t: Test) {
  const receiver = await startReceiver((_req, res) => { res.writeHead(204).end() })
  t.teardown(() => receiver.close())
  const clients = testClients(`${receiver.url}/prime_explorer/ws/hermod`).map((c) => c.clientId === 'prime' ? { ...c, callbackSecret: SECRET, callbackBasicAuth: 'hermod:s3cret-pass' } : c)
  const log = captureLogger()
  const broker = await createBroker(testConfig({ allowedClients: clients }), { logger: log.logger })
  t.teardown(() => broker.close())
  broker.start()
  const post = async (type: string, body: object, clientId: keyof typeof KEYS = 'prime'): Promise<any> => (await broker.app.inject({
    method: 'POST', url: `/hermod/rest/command/${type}`, headers: { 'x-api-key': apiKeyHeader(clientId, KEYS[clientId]) }, payload: body
  })).json()
  return { receiver, broker, post, log }
}

t.test('an answered command calls its server system back once, signed, with the response untouched', async (t) => {
  const { receiver, broker, post, log } = await setup(t)
  const accepted = await post('sign', { commandHeader: { timeout: 30, externalId: 'order-17' }, signCommand: {} })
  const d = accepted.destinations[0]
  const response = { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx', chain: ['a', 'b'], n: 12.5 }
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response } })
  await waitFor(() => receiver.requests.length >= 1, 5000, 'the callback')
  await sleep(300)
  t.equal(receiver.requests.length, 1, 'exactly one callback')
  const cb = receiver.requests[0]!
  t.equal(cb.method, 'POST')
  t.equal(cb.url, '/prime_explorer/ws/hermod/callback/sign')
  t.equal(cb.headers.authorization, `Basic ${Buffer.from('hermod:s3cret-pass').toString('base64')}`)
  const body = JSON.parse(cb.body)
  t.match(body, { commandId: accepted.commandId, commandType: 'SIGN', state: 'COMPLETED', externalId: 'order-17', destination: { to: '@tmp', bid: d.bid, mid: d.mid }, response })
  t.ok(Date.parse(body.createdAt) <= Date.parse(body.finishedAt))
  const verified = new Webhook(SECRET).verify(cb.body, {
    'webhook-id': String(cb.headers['webhook-id']),
    'webhook-timestamp': String(cb.headers['webhook-timestamp']),
    'webhook-signature': String(cb.headers['webhook-signature'])
  })
  t.same(verified, body, 'the official standardwebhooks verifier accepts it (R16)')
  t.notMatch(log.text(), /s3cret-pass|whsec_|079b6a64d75b4e95/, 'no secret in the logs')
})

t.test('R7: an unanswered command times out on time with exactly one TIMEOUT callback, also when timeout equals lifespan', async (t) => {
  const { receiver, post, broker } = await setup(t)
  const equal = await post('authenticate', { commandHeader: { timeout: 1, lifespan: 1 } }, 'hag')
  const shorter = await post('sign', { commandHeader: { timeout: 1, lifespan: 5 } }, 'hag')
  const acceptedAt = Date.now()
  await waitFor(() => receiver.requests.length >= 2, 5000, 'two TIMEOUT callbacks')
  await sleep(500)
  t.equal(receiver.requests.length, 2, 'one callback each, no duplicates')
  const bodies = receiver.requests.map((r) => JSON.parse(r.body))
  t.same(bodies.map((b) => b.commandId).sort(), [equal.commandId, shorter.commandId].sort())
  t.ok(bodies.every((b) => b.state === 'TIMEOUT'))
  t.same(receiver.requests.map((r) => r.url).sort(), ['/prime_explorer/ws/hermod/callback/authenticate', '/prime_explorer/ws/hermod/callback/sign'])
  t.equal(receiver.requests[0]!.headers['webhook-signature'], undefined, 'unsigned without a callback secret')
  const lastAt = Math.max(...receiver.requests.map((r) => r.at))
  t.comment(`TIMEOUT callbacks arrived ${lastAt - acceptedAt - 1000} ms after the deadline`)
  const status = await broker.app.inject({ url: `/hermod/rest/command/${shorter.commandId}`, headers: { 'x-api-key': apiKeyHeader('hag', KEYS.hag) } })
  t.equal(status.json().state, 'TIMEOUT')
  const gone = await broker.app.inject({ url: `/hermod/rest/command/${equal.commandId}`, headers: { 'x-api-key': apiKeyHeader('hag', KEYS.hag) } })
  t.equal(gone.statusCode, 404, 'timeout == lifespan: gone from history, callback still sent')
})

t.test('a cancelled command calls back CANCELLED once', async (t) => {
  const { receiver, post, broker } = await setup(t)
  const accepted = await post('provision', { commandHeader: { timeout: 60 }, provCommand: {} }, 'hag')
  await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': apiKeyHeader('hag', KEYS.hag) } })
  await waitFor(() => receiver.requests.length >= 1, 5000, 'the callback')
  await sleep(200)
  t.equal(receiver.requests.length, 1)
  t.match(JSON.parse(receiver.requests[0]!.body), { commandId: accepted.commandId, state: 'CANCELLED', commandType: 'PROVISION' })
  t.equal(receiver.requests[0]!.url, '/prime_explorer/ws/hermod/callback/provision')
})
