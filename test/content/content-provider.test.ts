// Hermod's content provider with a real provider server: resolved items, Basic auth, the cache,
// 502 + Retry-After on failure, the dev provider.
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { startReceiver, type Handler } from '../callbacks/helpers.js'
import { buildTestBroker } from '../helpers/broker.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { loadYaml } from '../config/yaml-fixture.js'
import { startDevBroker } from '../dev/helpers.js'

const AUTH_EXAMPLE = JSON.parse(readFileSync(new URL('../../examples/hermod/authenticate-command.json', import.meta.url), 'utf8'))
const JPEG = Buffer.from('not really a jpeg').toString('base64')

async function setup (t: Test, handler: Handler, clientPatch: object = {}) {
  const provider = await startReceiver(handler)
  t.teardown(() => provider.close())
  const clients = testClients().map((c) => c.clientId === 'prime' ? { ...c, contentProviderUrl: `${provider.url}/api/`, contentProviderBasicAuth: 'cp-user:cp-s3cret', ...clientPatch } : c)
  const test = await buildTestBroker(t, testConfig({ allowedClients: clients }))
  const read = async (accepted: any) => {
    const d = accepted.destinations[0]
    return await test.broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  }
  const status = async (accepted: any) => (await test.broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) } })).json().state
  return { provider, ...test, read, status }
}

const answering: Handler = (req, res) => {
  const { contentId } = JSON.parse(req.body)
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ content_encoding: 'base64', content_type: 'image/jpeg', key: 'front', data: JPEG, echo: contentId }] }))
}

t.test('a device reading the public authenticate example gets the provider\'s items in place of the content id, fetched once', async (t) => {
  const { provider, post, read } = await setup(t, answering)
  const accepted = (await post('authenticate', AUTH_EXAMPLE)).json
  const res = await read(accepted)
  t.equal(res.statusCode, 200)
  const description = res.json().command.authCommand.params.description
  t.same(description, [{ key: 'front', description: 'Verify that image is equal', visible: true, content_encoding: 'base64', content_type: 'image/jpeg', data: JPEG, echo: 'AUTH:4018e11f-1209-45f5-ade7-e59004e10745' }])
  t.equal(provider.requests.length, 1)
  const call = provider.requests[0]!
  t.equal(call.method, 'POST')
  t.equal(call.url, '/api/getcontent', 'one slash, /getcontent appended')
  t.same(JSON.parse(call.body), { contentId: 'AUTH:4018e11f-1209-45f5-ade7-e59004e10745' })
  t.equal(call.headers.authorization, `Basic ${Buffer.from('cp-user:cp-s3cret').toString('base64')}`)
  t.equal((await read(accepted)).statusCode, 200)
  t.equal(provider.requests.length, 1, 'cached for the command\'s lifespan')
  const plain = (await post('sign', { signCommand: { params: { tbs: 'VGVzdA==' } } })).json
  t.same((await read(plain)).json().command, { signCommand: { params: { tbs: 'VGVzdA==' } } }, 'no reference: untouched')
  t.equal(provider.requests.length, 1)
})

t.test('a client without a content provider hands the reference through untouched', async (t) => {
  const { post, read } = await setup(t, answering, { contentProviderUrl: undefined })
  const accepted = (await post('authenticate', AUTH_EXAMPLE)).json
  t.same((await read(accepted)).json().command, { authCommand: AUTH_EXAMPLE.authCommand })
})

for (const [name, handler] of [
  ['answers 500', (_req, res) => { res.writeHead(500).end('oops') }],
  ['answers garbage', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": "nope"}') }],
  ['answers no JSON', (_req, res) => { res.writeHead(200).end('<html>') }],
  ['hangs past the timeout', () => {}]
] as Array<[string, Handler]>) {
  t.test(`a provider that ${name}: 502 HERMOD_CONTENT_PROVIDER_FAILED with Retry-After, the command untouched`, async (t) => {
    const { post, read, status, broker } = await setup(t, handler)
    const accepted = (await post('authenticate', { commandHeader: { timeout: 60 }, ...AUTH_EXAMPLE })).json
    const res = await read(accepted)
    t.equal(res.statusCode, 502)
    t.equal(res.json().code, 'HERMOD_CONTENT_PROVIDER_FAILED')
    t.equal(res.json().error, 'Bad Gateway')
    t.equal(res.headers['retry-after'], '5')
    t.notMatch(res.body, /cp-s3cret|127\.0\.0\.1/, 'neither credentials nor the provider address')
    t.equal(await status(accepted), 'IN_PROGRESS')
    const d = accepted.destinations[0]
    const answered = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response: {} } })
    t.equal(answered.statusCode, 200, 'the device can still answer')
  })
}

t.test('a provider that is down: 502, and once it is back the read succeeds', async (t) => {
  let up = false
  const { post, read } = await setup(t, (req, res, index) => { if (up) answering(req, res, index); else res.socket?.destroy() })
  const accepted = (await post('authenticate', AUTH_EXAMPLE)).json
  t.equal((await read(accepted)).statusCode, 502)
  up = true
  t.equal((await read(accepted)).statusCode, 200, 'a failure is not cached')
})

t.test('content-provider-basic-auth binds from both spellings', async (t) => {
  for (const yaml of [
    'allowed-clients:\n  - { client-id: a, key: k, group: g, content-provider-url: https://c.example, content-provider-basic-auth: "u:p" }\n',
    'allowedClients:\n  - { clientId: a, key: k, group: g, contentProviderUrl: https://c.example, contentProviderBasicAuth: "u:p" }\n'
  ]) {
    const { config } = await loadYaml(t, yaml)
    t.match(config.allowedClients[0], { contentProviderUrl: 'https://c.example', contentProviderBasicAuth: 'u:p' })
  }
})

t.test('the built-in dev content provider serves sample PNGs: one for AUTH ids, front and back for PROV ids', async (t) => {
  const dev = await startDevBroker(t, {}, {}, (sink) => testClients(sink).map((c) => ({ ...c, contentProviderUrl: sink.replace(/\/dev$/, '/dev/content') })))
  const accepted = await dev.post('authenticate', AUTH_EXAMPLE)
  const d = accepted.destinations[0]
  const read = await dev.call('GET', `/hermod/rest/ms/${d.bid}/${d.mid}`)
  t.equal(read.status, 200)
  const [item] = read.json.command.authCommand.params.description
  t.match(item, { content_type: 'image/png', content_encoding: 'base64', key: 'image', description: 'Verify that image is equal' })
  t.same([...Buffer.from(item.data, 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  const prov = await dev.call('POST', '/hermod/dev/content/getcontent', { contentId: 'PROV:1b0c6a1e-0000-4000-8000-000000000000' })
  t.same(prov.json.data.map((i: { key: string }) => i.key), ['front', 'back'])
  const again = await dev.call('POST', '/hermod/dev/content/getcontent', { contentId: 'AUTH:4018e11f-1209-45f5-ade7-e59004e10745' })
  t.equal(again.json.data[0].data, item.data, 'the same id draws the same picture')
})
