// Request logging: one line per request with its id, no API key, box token, message id or answer content in any line (R17).
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/server/logger.js'
import { createBroker } from '../../src/server/broker.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { ManualClock } from '../../src/mailbox/clock.js'
import { KEYS, testConfig } from '../helpers/config.js'

t.test('logs carry request ids and never a key, a token or a device answer', async (t) => {
  const chunks: string[] = []
  const logger = createLogger({ level: 'debug', pretty: false }, new Writable({ write (c: Buffer, _e, done) { chunks.push(c.toString()); done() } }))
  const broker = await createBroker(testConfig(), { logger })
  t.teardown(() => broker.close())
  const key = apiKeyHeader('prime', KEYS.prime)
  const accepted = (await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key, 'x-request-id': 'trace-17' }, payload: { signCommand: { pin: 'payload-secret-1234' } } })).json()
  const d = accepted.destinations[0]
  const token = new URL(d.uri).searchParams.get('token')!
  await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token}` })
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response: { signature: 'device-answer-5678' } } })
  await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': apiKeyHeader('prime', 'wrong-key-9999') } })
  const lines = chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  const completed = lines.filter((l) => l.msg === 'request completed')
  t.equal(completed.length, 4, 'one line per request')
  t.equal(completed[0].reqId, 'trace-17', 'X-Request-Id is the request id')
  t.ok(completed.every((l) => typeof l.reqId === 'string' && typeof l.statusCode === 'number'))
  t.match(completed[1].url, /token=\[redacted\]/)
  const text = chunks.join('')
  for (const secret of [KEYS.prime, key, token, 'payload-secret-1234', 'device-answer-5678', 'wrong-key-9999']) {
    t.notOk(text.includes(secret), `not logged: ${secret.slice(0, 12)}…`)
  }
})

t.test('R17 on device paths: no message id and no box token in any log line, at any level', async (t) => {
  const chunks: string[] = []
  const logger = createLogger({ level: 'trace', pretty: false }, new Writable({ write (c: Buffer, _e, done) { chunks.push(c.toString()); done() } }))
  const clock = new ManualClock(Date.now())
  const broker = await createBroker(testConfig(), { logger, clock })
  t.teardown(() => broker.close())
  const key = apiKeyHeader('prime', KEYS.prime)
  const accept = async (commandHeader: object): Promise<{ bid: string, mid: string, token: string }> => {
    const d = (await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader, signCommand: {} } })).json().destinations[0]
    return { bid: d.bid, mid: d.mid, token: new URL(d.uri).searchParams.get('token')! }
  }
  const answered = await accept({ to: ['phone-17'] })
  const late = await accept({ timeout: 1, lifespan: 600 })
  const unread = await accept({})
  const ms = '/hermod/rest/ms'
  const statuses: Record<string, number> = {}
  const send = async (name: string, method: 'GET' | 'POST' | 'PUT', url: string, extra: { headers?: Record<string, string>, payload?: object } = {}): Promise<void> => {
    const res = await broker.app.inject({ method, url, ...extra })
    statuses[name] = res.statusCode
    if (res.statusCode >= 400) for (const id of [answered.mid, late.mid, unread.mid]) t.notOk(res.body.includes(id), `${name}: the error does not echo a message id`)
  }
  const { bid, mid, token } = answered
  await send('list by query token', 'GET', `${ms}/${bid}?token=${token}`)
  await send('list by header token', 'GET', `${ms}/${bid}?wait=0`, { headers: { 'x-hermod-token': token } })
  await send('list with a spelled-out token', 'GET', `${ms}/${bid}?t%6Fken=${token}`)
  await send('read', 'GET', `${ms}/${bid}/${mid}`)
  await send('answer', 'POST', `${ms}/${bid}/${mid}`, { payload: { status: 'OK', response: { signature: 'x' } } })
  await send('answer again (409)', 'POST', `${ms}/${bid}/${mid}`, { payload: { status: 'OK' } })
  await send('read after the answer (409)', 'GET', `${ms}/${bid}/${mid}`)
  await send('read an unknown message (404)', 'GET', `${ms}/${bid}/${unread.mid}`)
  clock.advance(2_000)
  await send('read after the timeout (410)', 'GET', `${ms}/${late.bid}/${late.mid}`)
  await send('answer after the timeout (410)', 'POST', `${ms}/${late.bid}/${late.mid}`, { payload: { status: 'OK' } })
  await send('a bad escape after the message id', 'GET', `${ms}/${bid}/${mid}%`)
  await send('a path below the message', 'GET', `${ms}/${bid}/${mid}/extra?token=${token}`)
  await send('a method the route does not have', 'PUT', `${ms}/${bid}/${mid}`)
  await send('ms spelled in capitals', 'GET', `/hermod/rest/MS/${bid}/${mid}`)
  await send('ms percent-encoded', 'GET', `/hermod/rest/m%73/${unread.bid}/${unread.mid}`)
  await send('a doubled slash', 'GET', `${ms}//${bid}/${mid}`)
  await send('an invalid answer (400)', 'POST', `${ms}/${unread.bid}/${unread.mid}`, { payload: { status: 'MAYBE' } })
  t.match(statuses, {
    'list by query token': 200,
    'list by header token': 200,
    read: 200,
    answer: 200,
    'answer again (409)': 409,
    'read after the answer (409)': 409,
    'read after the timeout (410)': 410,
    'answer after the timeout (410)': 410,
    'a bad escape after the message id': 400,
    'a path below the message': 404,
    'ms percent-encoded': 200,
    'an invalid answer (400)': 400
  })
  const text = chunks.join('')
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  t.ok(lines.filter((l) => l.msg === 'request completed').length >= Object.keys(statuses).length - 1, 'the requests were logged')
  t.ok(lines.some((l) => l.msg === 'message answered'), 'the answer was logged')
  t.ok(lines.some((l) => typeof l.url === 'string' && l.url.includes(`/ms/${bid}/[redacted]`)), 'a device path is logged with its box id and without its message id')
  for (const [what, secret] of [['answered mid', answered.mid], ['timed-out mid', late.mid], ['unread mid', unread.mid], ['token', token], ['timed-out token', late.token]] as const) {
    t.notOk(text.includes(secret), `not logged: the ${what}`)
    t.notOk(text.toLowerCase().includes(secret.slice(-12)), `not logged, not even in part: the ${what}`)
  }
})

t.test('R17: URLs quoted in free text and in errors (as Fastify\'s warnings do) are redacted too', async (t) => {
  const chunks: string[] = []
  const logger = createLogger({ level: 'trace', pretty: false }, new Writable({ write (c: Buffer, _e, done) { chunks.push(c.toString()); done() } }))
  const mid = '0b7d2c4e-aaaa-4bbb-8ccc-ddddeeeeffff'
  const url = `/hermod/rest/ms/6c5f3a2e-1111-4222-8333-444455556666/${mid}?token=tok-secret-42`
  logger.warn(`Reply was already sent, did you forget to "return reply" in the "${url}" (GET) route?`)
  logger.warn({ err: new Error(`Reply was already sent for GET ${url}`) })
  logger.error({ err: `a string error for ${url}` }, 'failed')
  logger.info({ mid, nested: { mid, token: 'tok-secret-42' } }, 'fields')
  const text = chunks.join('')
  t.equal(text.trim().split('\n').length, 4)
  t.notOk(text.includes(mid), 'no message id')
  t.notOk(text.includes('tok-secret-42'), 'no token')
  t.match(text, /\/ms\/6c5f3a2e-1111-4222-8333-444455556666\/\[redacted\]/, 'the box id stays, for the operator')
})

t.test('an X-Request-Id is the request id up to 128 characters; without one the ids are generated', async (t) => {
  const chunks: string[] = []
  const logger = createLogger({ level: 'info', pretty: false }, new Writable({ write (c: Buffer, _e, done) { chunks.push(c.toString()); done() } }))
  const broker = await createBroker(testConfig(), { logger })
  t.teardown(() => broker.close())
  await broker.app.inject({ url: '/hermod/rest/nothing', headers: { 'x-request-id': 'r'.repeat(10_000) } })
  await broker.app.inject({ url: '/hermod/rest/nothing' })
  const ids = chunks.join('').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed').map((l) => l.reqId as string)
  t.same(ids.map((id) => id.length), [128, ids[1]!.length], 'a long id is cut to 128 characters')
  t.equal(ids[0], 'r'.repeat(128))
  t.match(ids[1], /^req-[0-9a-z]+$/)
})
