// Callback request building: URL modes, exact body, Standard Webhooks headers (R16), Basic auth, userinfo.
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { buildCallbackBody, buildCallbackRequest, CALLBACK_USER_AGENT, CallbackConfigError, loggableUrl, resolveCallbackUrl } from '../../src/callbacks/request.js'
import { makeClient, makeEvent } from './helpers.js'

const NOW = Date.now()
const SECRET = `whsec_${randomBytes(32).toString('base64')}`

t.test('body: members in order, response inserted untouched, dates in ISO', async t => {
  const response = '{ "jws" : "a.b.c",\n  "n": 1.50, "u": "\\u00e9" }'
  const event = makeEvent({ commandId: '688', response })
  const body = buildCallbackBody(event)
  t.equal(body,
    '{"commandId":"688","commandType":"SIGN","state":"COMPLETED","externalId":"order-17",' +
    '"destination":{"to":"@tmp","bid":"11318956-2040-4360-941d-437e4ddd810c","mid":"14fc191a-a0a3-4ae3-929a-e37efafdb510"},' +
    `"response":${response},"createdAt":"2026-01-01T10:00:00.000Z","finishedAt":"2026-01-01T10:00:12.345Z"}`)
  t.ok(body.includes(response), 'the device answer keeps its bytes (spacing, 1.50, escapes)')
  t.same(JSON.parse(body).response, { jws: 'a.b.c', n: 1.5, u: 'é' })
})

t.test('body: absent optional members are omitted, not null', async t => {
  const event = makeEvent({ commandId: '9', type: 'ping', state: 'TIMEOUT', externalId: undefined, destination: undefined, response: undefined })
  delete event.externalId
  delete event.destination
  delete event.response
  const parsed = JSON.parse(buildCallbackBody(event))
  t.same(Object.keys(parsed), ['commandId', 'commandType', 'state', 'createdAt', 'finishedAt'])
  t.equal(parsed.commandType, 'PING')
  t.equal(parsed.state, 'TIMEOUT')
})

t.test('body: destination carries to/bid/mid only (never the box token)', async t => {
  const event = makeEvent()
  ;(event.destination as Record<string, string>).token = 'box-token-must-not-leak'
  t.notMatch(buildCallbackBody(event), /box-token/)
})

t.test('append mode: {callbackUrl}/callback/{type}, trailing slashes dropped, query kept', async t => {
  const event = makeEvent({ type: 'authenticate' })
  t.equal(buildCallbackRequest(event, makeClient({ callbackUrl: 'https://prime:8443/prime_explorer/ws/hermod' }), NOW).url,
    'https://prime:8443/prime_explorer/ws/hermod/callback/authenticate')
  t.equal(buildCallbackRequest(event, makeClient({ callbackUrl: 'https://prime:8443/prime_explorer/ws/hermod//' }), NOW).url,
    'https://prime:8443/prime_explorer/ws/hermod/callback/authenticate')
  t.equal(buildCallbackRequest(event, makeClient({ callbackUrl: 'http://sink' }), NOW).url, 'http://sink/callback/authenticate')
  t.equal(buildCallbackRequest(event, makeClient({ callbackUrl: 'http://sink/hook/?tenant=a#frag' }), NOW).url,
    'http://sink/hook/callback/authenticate?tenant=a')
})

t.test('exact mode: callbackUrl itself', async t => {
  const client = makeClient({ callbackUrl: 'https://hooks.example/in/hermod/', callbackMode: 'exact' })
  t.equal(buildCallbackRequest(makeEvent(), client, NOW).url, 'https://hooks.example/in/hermod/')
})

t.test('headers: content type, user agent, webhook id and timestamp; no signature or auth unless configured', async t => {
  const event = makeEvent()
  const { headers } = buildCallbackRequest(event, makeClient({ callbackUrl: 'http://sink' }), 1_767_225_600_999)
  t.same(headers, {
    'content-type': 'application/json',
    'user-agent': CALLBACK_USER_AGENT,
    'webhook-id': event.id,
    'webhook-timestamp': '1767225600'
  })
  t.match(CALLBACK_USER_AGENT, /^hermod-broker\/\d+\.\d+\.\d+/)
})

t.test('R16: the official standardwebhooks verifier accepts the signature', async t => {
  const event = makeEvent()
  const request = buildCallbackRequest(event, makeClient({ callbackUrl: 'http://sink', callbackSecret: SECRET }), Date.now())
  t.match(request.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  const verified = new Webhook(SECRET).verify(request.body, request.headers)
  t.same(verified, JSON.parse(request.body))
  t.throws(() => new Webhook(SECRET).verify(request.body.replace('COMPLETED', 'REJECTED'), request.headers), 'a changed body fails')
  t.throws(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(request.body, request.headers), 'another secret fails')
  const later = buildCallbackRequest(event, makeClient({ callbackUrl: 'http://sink', callbackSecret: SECRET }), Date.now() + 1_000)
  t.equal(later.headers['webhook-id'], request.headers['webhook-id'], 'the id is stable across attempts')
  t.not(later.headers['webhook-timestamp'], request.headers['webhook-timestamp'], 'timestamp and signature are per attempt')
  t.not(later.headers['webhook-signature'], request.headers['webhook-signature'])
})

t.test('an unusable secret or URL is a CallbackConfigError that repeats neither', async t => {
  const badSecret = makeClient({ callbackUrl: 'http://sink', callbackSecret: 'whsec_***not base64***' })
  t.throws(() => buildCallbackRequest(makeEvent(), badSecret, NOW), { name: 'CallbackConfigError', code: 'HERMOD_CALLBACK_CONFIG_INVALID' })
  try { buildCallbackRequest(makeEvent(), badSecret, NOW) } catch (err) { t.notMatch((err as Error).message, /not base64\*/) }
  for (const callbackUrl of ['not a url', 'ftp://u:pw-secret@host/x', '']) {
    try {
      buildCallbackRequest(makeEvent(), makeClient({ callbackUrl }), NOW)
      t.fail(`${callbackUrl} accepted`)
    } catch (err) {
      t.ok(err instanceof CallbackConfigError, `rejected: '${callbackUrl}'`)
      t.notMatch((err as Error).message, /pw-secret/)
    }
  }
})

t.test('Basic auth from callbackBasicAuth', async t => {
  const { headers } = buildCallbackRequest(makeEvent(), makeClient({ callbackUrl: 'http://sink', callbackBasicAuth: 'hermod:s3cr:et' }), NOW)
  t.equal(headers.authorization, `Basic ${Buffer.from('hermod:s3cr:et').toString('base64')}`)
})

t.test('userinfo in the URL moves to Authorization (percent-decoded) and leaves the URL', async t => {
  const client = makeClient({ callbackUrl: 'https://hook%40user:p%40ss%3Aword@prime.example/ws' })
  const request = buildCallbackRequest(makeEvent(), client, NOW)
  t.equal(request.url, 'https://prime.example/ws/callback/sign')
  t.equal(request.headers.authorization, `Basic ${Buffer.from('hook@user:p@ss:word').toString('base64')}`)
  const configured = buildCallbackRequest(makeEvent(), { ...client, callbackBasicAuth: 'cfg:pw' }, NOW)
  t.equal(configured.headers.authorization, `Basic ${Buffer.from('cfg:pw').toString('base64')}`, 'callbackBasicAuth wins')
  t.equal(configured.url, 'https://prime.example/ws/callback/sign', 'and the userinfo is still dropped')
})

t.test('loggableUrl drops userinfo and query', async t => {
  const { url } = resolveCallbackUrl(makeClient({ callbackUrl: 'https://u:pw@host:8443/a?token=t0k' }), 'sign')
  t.equal(loggableUrl(url), 'https://host:8443/a/callback/sign')
})
