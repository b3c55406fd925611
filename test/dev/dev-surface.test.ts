// The dev surface's safety: off unless broker.dev.enabled, loopback-only unless credentials open it, absent on --role api,
// in the OpenAPI document.
import t from 'tap'
import { createBroker } from '../../src/server/broker.js'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'

const remote = '192.0.2.10'
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

t.test('nothing under dev/ exists unless broker.dev.enabled, even with dev-sink on', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({ broker: { devSink: true } }))
  for (const url of ['/hermod/dev/api/callbacks', '/hermod/dev/callbacks', '/hermod/dev/api/commands']) {
    const res = await broker.app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'HERMOD_NOT_FOUND')
  }
})

t.test('enabled: loopback callers only; a remote caller gets 403 HERMOD_FORBIDDEN', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({ broker: { dev: { enabled: true }, devSink: true } }))
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/callbacks' })).statusCode, 200)
  t.equal((await broker.app.inject({ url: '/hermod/dev/callbacks' })).statusCode, 200, 'the dev sink is part of it')
  const refused = await broker.app.inject({ url: '/hermod/dev/api/callbacks', remoteAddress: remote })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'HERMOD_FORBIDDEN')
})

t.test('credentials open the dev surface to remote callers with Basic auth; loopback needs none', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({ broker: { dev: { enabled: true, credentials: { username: 'dev', password: 'open-sesame' } } } }))
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/commands' })).statusCode, 200, 'loopback')
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/commands', remoteAddress: remote })).statusCode, 401, 'remote without credentials')
  const wrong = await broker.app.inject({ url: '/hermod/dev/api/commands', remoteAddress: remote, headers: { authorization: basic('dev', 'nope') } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'HERMOD_UNAUTHORIZED')
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/commands', remoteAddress: remote, headers: { authorization: basic('dev', 'open-sesame') } })).statusCode, 200)
})

t.test('an instance running --role api serves no dev surface', async (t) => {
  const broker = await createBroker(testConfig({ broker: { dev: { enabled: true }, devSink: true } }), { role: 'api' })
  t.teardown(() => broker.close())
  await broker.app.ready()
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/callbacks' })).statusCode, 404)
  t.equal((await broker.app.inject({ method: 'POST', url: '/hermod/dev/callback/sign', payload: {} })).statusCode, 404)
})

t.test('the OpenAPI document describes the dev API under the development tag', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({ broker: { dev: { enabled: true }, devSink: true } }))
  const doc = (await broker.app.inject({ url: '/hermod/v3/api-docs' })).json()
  for (const [path, method] of [
    ['/hermod/dev/api/callbacks', 'get'], ['/hermod/dev/api/callbacks/wait', 'get'], ['/hermod/dev/api/commands', 'get'],
    ['/hermod/dev/api/commands/{commandId}', 'get'], ['/hermod/dev/api/boxes', 'get'], ['/hermod/dev/api/clock/advance', 'post'],
    ['/hermod/dev/api/reset', 'post'], ['/hermod/dev/api/sink/faults', 'put']
  ] as const) {
    t.same(doc.paths[path]?.[method]?.tags, ['development'], `${method} ${path}`)
  }
  t.ok(doc.tags.some((tag: { name: string }) => tag.name === 'development'))
  t.ok(doc.paths['/hermod/dev/api/callbacks/wait'].get.responses['408'], 'the wait timeout is documented')
})
