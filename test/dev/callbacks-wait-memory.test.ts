// On the embedded store: post, answer through the device API, wait on callbacks/wait (no sleeping); the delivery log and the sink's faults.
import t from 'tap'
import { testClients } from '../helpers/config.js'
import { startDevBroker } from './helpers.js'

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`

t.test('callbacks/wait answers once the callback of an answered command was delivered; the log masks Authorization', async (t) => {
  const dev = await startDevBroker(t, {}, {}, (sink) => testClients(sink).map((c) => c.clientId === 'prime' ? { ...c, callbackBasicAuth: 'hermod:s3cret-pass', callbackSecret: SECRET } : c))
  const accepted = await dev.post('sign', { commandHeader: { timeout: 60, externalId: 'order-17' }, signCommand: { params: { tbs: 'VGVzdA==' } } })
  t.equal(await dev.answer(accepted), 200)
  const waited = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&state=COMPLETED&until=delivered&timeout=30`)
  t.equal(waited.status, 200)
  t.match(waited.json, {
    commandId: accepted.commandId,
    externalId: 'order-17',
    commandType: 'SIGN',
    state: 'COMPLETED',
    clientId: 'prime',
    attempt: 1,
    outcome: 'delivered',
    status: 200,
    url: `${dev.base}/hermod/dev/callback/sign`
  })
  t.type(waited.json.durationMs, 'number')
  t.equal(waited.json.headers.authorization, 'Basic [masked]', 'the Authorization credentials are masked')
  t.match(waited.json.headers['webhook-signature'], /^v1,/, 'the signature (not the secret) is shown')
  t.match(JSON.parse(waited.json.body), { commandId: accepted.commandId, state: 'COMPLETED', response: { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' } })
  const log = await dev.call('GET', '/hermod/dev/api/callbacks?externalId=order-17')
  t.equal(log.json.deliveries.length, 1)
  const everything = JSON.stringify(log.json)
  t.notMatch(everything, /s3cret-pass/, 'no password')
  t.notMatch(everything, new RegExp(Buffer.from('hermod:s3cret-pass').toString('base64')), 'no encoded credentials')
  t.notMatch(everything, /whsec_/, 'no signing secret')
  const sink = await dev.call('GET', '/hermod/dev/callbacks')
  t.match(sink.json.callbacks[0], { path: '/hermod/dev/callback/sign', answered: 200, signed: true, body: { commandId: accepted.commandId } })
})

t.test('callbacks/wait by externalId also finds an attempt made before the wait began; 408 HERMOD_WAIT_TIMEOUT and 400 otherwise', async (t) => {
  const dev = await startDevBroker(t)
  const accepted = await dev.post('authenticate', { commandHeader: { externalId: 'login-4711' } })
  await dev.answer(accepted, 'REJECTED', { reason: 'user said no' })
  const first = await dev.call('GET', '/hermod/dev/api/callbacks/wait?externalId=login-4711&timeout=30')
  t.equal(first.status, 200)
  t.equal(first.json.state, 'REJECTED')
  const again = await dev.call('GET', '/hermod/dev/api/callbacks/wait?externalId=login-4711&timeout=0')
  t.equal(again.status, 200, 'already in the log: answered at once')
  const none = await dev.call('GET', '/hermod/dev/api/callbacks/wait?commandId=999999&timeout=1')
  t.equal(none.status, 408)
  t.equal(none.json.code, 'HERMOD_WAIT_TIMEOUT')
  const wrongState = await dev.call('GET', '/hermod/dev/api/callbacks/wait?externalId=login-4711&state=COMPLETED&timeout=0')
  t.equal(wrongState.status, 408, 'the state must match too')
  const bad = await dev.call('GET', '/hermod/dev/api/callbacks/wait?timeout=1')
  t.equal(bad.status, 400)
  t.equal(bad.json.code, 'HERMOD_INVALID_REQUEST')
  t.equal((await dev.call('GET', '/hermod/dev/api/callbacks/wait?commandId=1&timeout=9999')).status, 400, 'timeout above the maximum')
})

t.test('sink faults: a 500 is retried (the log shows the next retry), a 410 ends delivery, clearing the faults delivers', async (t) => {
  const dev = await startDevBroker(t, { broker: { callbacks: { backoffBaseMs: 200, backoffMaxMs: 400 } } })
  t.equal((await dev.call('PUT', '/hermod/dev/api/sink/faults', { status: 500 })).status, 200)
  const failing = await dev.post('sign', { commandHeader: { externalId: 'retry-me' } })
  await dev.answer(failing)
  const attempt = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${failing.commandId}&timeout=30`)
  t.match(attempt.json, { outcome: 'retry', status: 500, error: 'HTTP 500', attempt: 1 })
  t.ok(Date.parse(attempt.json.nextRetryAt) >= Date.parse(attempt.json.at), 'the next retry is scheduled')
  t.equal((await dev.call('PUT', '/hermod/dev/api/sink/faults', {})).status, 200)
  const delivered = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${failing.commandId}&until=delivered&timeout=30`)
  t.match(delivered.json, { outcome: 'delivered', status: 200 })
  t.ok(delivered.json.attempt >= 2)

  await dev.call('PUT', '/hermod/dev/api/sink/faults', { goneProbability: 1 })
  const gone = await dev.post('ping', {})
  await dev.answer(gone)
  const refused = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${gone.commandId}&timeout=30`)
  t.match(refused.json, { outcome: 'give-up', status: 410 })
  t.equal(refused.json.nextRetryAt, undefined, 'no retry after a 410')
  const invalid = await dev.call('PUT', '/hermod/dev/api/sink/faults', { serverErrorProbability: 2 })
  t.equal(invalid.status, 400)
  t.equal(invalid.json.code, 'HERMOD_INVALID_REQUEST')
})

t.test('sink faults: a hanging sink makes the attempt time out; new faults release it', async (t) => {
  const dev = await startDevBroker(t, { broker: { callbacks: { timeoutMs: 500, backoffBaseMs: 100000, backoffMaxMs: 100000 } } })
  await dev.call('PUT', '/hermod/dev/api/sink/faults', { hang: true })
  const accepted = await dev.post('sign', {})
  await dev.answer(accepted)
  const attempt = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&timeout=30`)
  t.match(attempt.json, { outcome: 'retry', error: 'timeout after 500 ms' })
  t.equal(attempt.json.status, undefined)
  t.match((await dev.call('GET', '/hermod/dev/callbacks')).json.callbacks[0], { answered: 'hang' })
  t.same((await dev.call('GET', '/hermod/dev/api/sink/faults')).json, { hang: true })
})
