// R17: no API key, Basic password, URL credential or signing secret in any log line, reason or dead letter.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { CallbackDeliverer } from '../../src/callbacks/deliverer.js'
import { MemoryCallbackQueue, type SettledResult } from '../../src/callbacks/memory-queue.js'
import { captureLogger, makeClient, makeConfig, makeEvent, registryOf, startReceiver, waitFor } from './helpers.js'

const secretBytes = randomBytes(32).toString('base64')
const SECRETS = {
  key: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  basicPassword: 'Basic-Pa55word-XYZ',
  signingSecret: secretBytes,
  urlPassword: 'Url-Pa55word-QRS',
  queryToken: 'Query-T0ken-123',
  badSecret: 'Bad-Secret-Value!!'
}
const DEVICE_ANSWER = 'DEVICE-SIGNATURE-BYTES'

t.test('R17: failures of every kind log ids, URL and reason, never a credential or the body', async t => {
  const failing = await startReceiver((req, res) => { res.writeHead(req.url?.startsWith('/gone') === true ? 410 : 500).end(`echo ${req.headers.authorization}`) })
  const hang = await startReceiver(() => {})
  const closed = await startReceiver(() => {})
  await closed.close()
  t.teardown(failing.close)
  t.teardown(hang.close)
  const withUserinfo = (base: string, path: string): string =>
    `${base.replace('http://', `http://hookuser:${SECRETS.urlPassword}@`)}${path}?token=${SECRETS.queryToken}`
  const clients = registryOf(
    makeClient({ clientId: 'basic', key: SECRETS.key, callbackUrl: failing.url, callbackBasicAuth: `hermod:${SECRETS.basicPassword}`, callbackSecret: `whsec_${SECRETS.signingSecret}` }),
    makeClient({ clientId: 'userinfo', key: SECRETS.key, callbackUrl: withUserinfo(failing.url, '/gone') }),
    makeClient({ clientId: 'hang', key: SECRETS.key, callbackUrl: withUserinfo(hang.url, '/h'), callbackSecret: `whsec_${SECRETS.signingSecret}` }),
    makeClient({ clientId: 'refused', key: SECRETS.key, callbackUrl: withUserinfo(closed.url, '/r'), callbackBasicAuth: `x:${SECRETS.basicPassword}` }),
    makeClient({ clientId: 'badsecret', key: SECRETS.key, callbackUrl: failing.url, callbackSecret: `whsec_${SECRETS.badSecret}` }),
    makeClient({ clientId: 'badurl', key: SECRETS.key, callbackUrl: `http://user:${SECRETS.urlPassword}@[::1` })
  )
  const log = captureLogger()
  const config = makeConfig({ attempts: 2, timeoutMs: 1_000, concurrency: 6 })
  const deliverer = new CallbackDeliverer({ clients, config, logger: log.logger })
  const settled: SettledResult[] = []
  const queue = new MemoryCallbackQueue({ deliverer, config, logger: log.logger, onSettled: (_e, r) => settled.push(r) })
  t.teardown(async () => { await queue.close(); await deliverer.close() })

  const ids = ['basic', 'userinfo', 'hang', 'refused', 'badsecret', 'badurl', 'unknown']
  await queue.enqueue(ids.map(clientId => makeEvent({ clientId, response: `{"sig":"${DEVICE_ANSWER}"}` })))
  await waitFor(() => settled.length === ids.length, 15_000)

  const letters = await queue.deadLetters()
  t.equal(letters.length, 6, 'every failing client dead-lettered')
  const everything = [log.text(), JSON.stringify(letters), JSON.stringify(settled), JSON.stringify(await queue.stats())].join('\n')
  for (const [name, value] of Object.entries(SECRETS)) t.notOk(everything.includes(value), `no ${name} anywhere`)
  t.notOk(log.text().includes(DEVICE_ANSWER), 'no callback body in the logs (dead letters keep the event, for replay)')
  t.notOk(everything.includes(Buffer.from(`hermod:${SECRETS.basicPassword}`).toString('base64')), 'no Authorization value')
  t.notOk(everything.includes(Buffer.from(`hookuser:${SECRETS.urlPassword}`).toString('base64')), 'no Authorization value from userinfo')

  const warnings = log.lines.filter(l => l.msg === 'callback attempt failed')
  t.same(new Set(warnings.map(l => l.clientId)), new Set(['basic', 'userinfo', 'hang', 'refused', 'badsecret', 'badurl']), 'each failure was logged')
  for (const line of warnings) {
    t.match(line, { level: 40, eventId: String, commandId: String, attempt: Number, url: String, reason: String })
  }
  t.ok(warnings.some(l => l.clientId === 'userinfo' && l.url === `${failing.url}/gone/callback/sign`), 'URL logged without userinfo or query')
  t.ok(log.lines.some(l => l.msg === 'callback attempt' && l.level === 20), 'attempts logged at debug')
  const reasons = Object.fromEntries(letters.map(l => [l.event.clientId, l.reason]))
  t.match(reasons, {
    basic: 'HTTP 500',
    userinfo: 'HTTP 410',
    hang: 'timeout after 1000 ms',
    refused: /ECONNREFUSED/,
    badsecret: 'callback secret of client badsecret is not a whsec_ base64 secret',
    badurl: 'callback URL of client badurl is not a valid URL'
  })
})
