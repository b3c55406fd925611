// Request logging: one line per request with its id, no API key, box token or answer content in any line (R17).
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/server/logger.js'
import { createBroker } from '../../src/server/broker.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
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
