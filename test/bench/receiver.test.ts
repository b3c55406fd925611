// The bench's callback receiver: webhook ids parsed, 204 at once, bodies parsed only when asked; waiters matched by command id.
import t from 'tap'
import { request } from 'undici'
import { CallbackTimeoutError, CallbackWaiters } from '../../src/bench/callback-waiters.js'
import { parseWebhookId, startReceiver, type ReceivedCallback } from '../../src/bench/receiver.js'
import { callbackEventId } from '../../src/mailbox/types.js'

t.test('parseWebhookId reads what callbackEventId writes', async (t) => {
  const createdAt = Date.UTC(2026, 10, 28, 6, 0, 0, 123)
  t.same(parseWebhookId(callbackEventId('688', 'TIMEOUT', createdAt)), { commandId: '688', state: 'TIMEOUT', createdAt })
  t.same(parseWebhookId(callbackEventId('1', 'COMPLETED', 0)), { commandId: '1', state: 'COMPLETED', createdAt: 0 })
  t.equal(parseWebhookId(undefined), undefined)
  t.equal(parseWebhookId('evt_1_x'), undefined)
  t.equal(parseWebhookId(['a', 'b']), undefined)
})

t.test('the receiver answers 204 and reports each callback, with finishedAt when it parses bodies', async (t) => {
  const got: ReceivedCallback[] = []
  const receiver = await startReceiver({ parseBodies: true, onCallback: (cb) => got.push(cb) })
  t.teardown(() => receiver.close())
  t.match(receiver.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const createdAt = 1_764_312_171_000
  const res = await request(`${receiver.url}/callback/sign`, {
    method: 'POST',
    headers: { 'webhook-id': callbackEventId('42', 'TIMEOUT', createdAt), 'content-type': 'application/json' },
    body: JSON.stringify({ commandId: '42', state: 'TIMEOUT', finishedAt: new Date(createdAt + 30_000).toISOString() })
  })
  await res.body.dump()
  t.equal(res.statusCode, 204)
  const bad = await request(`${receiver.url}/callback/sign`, { method: 'POST', body: '{}' })
  await bad.body.dump()
  t.equal(bad.statusCode, 204, 'an unrecognisable request is answered too')
  t.equal(receiver.malformed, 1)
  t.equal(got.length, 1)
  t.match(got[0], { commandId: '42', state: 'TIMEOUT', createdAt, finishedAt: createdAt + 30_000 })
  t.type(got[0]!.receivedAt, 'number')
})

t.test('CallbackWaiters: delivered, timed out, forgotten, unexpected', async (t) => {
  const waiters = new CallbackWaiters()
  const waiting = waiters.expect('7', 5_000)
  waiters.deliver({ commandId: '7', state: 'COMPLETED', createdAt: 1, receivedAt: 2 })
  t.match(await waiting, { commandId: '7', state: 'COMPLETED' })
  await t.rejects(waiters.expect('8', 10), CallbackTimeoutError)
  const forgotten = waiters.expect('9', 5_000)
  forgotten.catch(() => {})
  waiters.forget('9')
  waiters.deliver({ commandId: '9', state: 'COMPLETED', createdAt: 1, receivedAt: 2 })
  waiters.deliver({ commandId: '10', state: 'TIMEOUT', createdAt: 1, receivedAt: 2 })
  t.equal(waiters.unexpected, 2)
})
