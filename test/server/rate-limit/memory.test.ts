// Rate limits on the embedded store: per client id on the command API, per box and per address on the device API, 429 + Retry-After.
import t from 'tap'
import { buildTestBroker } from '../../helpers/broker.js'
import { testConfig } from '../../helpers/config.js'
import { assertRateLimited, limitedConfig, metricValue } from './helpers.js'

const BID = '0b0a3c2e-8d5f-4a4e-9d61-2f8f3c1d7e55'

t.test('a client gets per-client-max requests per window, then 429 HERMOD_RATE_LIMITED with Retry-After', async (t) => {
  const { broker, key } = await buildTestBroker(t, limitedConfig({ perClientMax: 3 }))
  const app = broker.app
  const get = async (client: 'prime' | 'hag' | 'other', id = '1'): Promise<Awaited<ReturnType<typeof app.inject>>> =>
    await app.inject({ url: `/hermod/rest/command/${id}`, headers: { 'x-api-key': key(client) } })
  // Every answer counts, a 404 as much as a 200: the budget is on requests.
  for (let i = 0; i < 3; i++) {
    const res = await get('prime')
    t.equal(res.statusCode, 404)
    t.equal(res.headers['x-ratelimit-limit'], '3')
    t.equal(res.headers['x-ratelimit-remaining'], String(2 - i))
  }
  const posted = await app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
  assertRateLimited(t, posted)
  assertRateLimited(t, await get('prime', '2'))
  t.equal(await metricValue(app, 'hermod_rate_limited_total{limit="client"}'), 2, 'each refusal is counted')
  // Keyed by the authenticated client id: hag (same group) and other have budgets of their own.
  t.equal((await get('hag')).statusCode, 404)
  t.equal((await get('other')).statusCode, 404)
  // A request that fails the API-key check is refused as before, without touching any budget.
  const forged = await app.inject({ url: '/hermod/rest/command/1', headers: { 'x-api-key': Buffer.from('prime:wrong').toString('base64') } })
  t.equal(forged.statusCode, 401)
  t.equal(forged.json().code, 'HERMOD_UNAUTHORIZED')
  // Health, metrics and the API document are never limited.
  for (let i = 0; i < 10; i++) {
    t.equal((await app.inject({ url: '/hermod/actuator/health/liveness' })).statusCode, 200)
    t.equal((await app.inject({ url: '/hermod/actuator/prometheus' })).statusCode, 200)
  }
  t.equal((await app.inject({ url: '/hermod/v3/api-docs' })).statusCode, 200)
  // Nor are the operator endpoints beside the API (loopback callers here).
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/hermod/rest/util/generateclient/extra' })).statusCode, 200)
})

t.test('the device side is counted per box: one box at its limit leaves the others served', async (t) => {
  const { broker, key } = await buildTestBroker(t, limitedConfig({ perBoxMax: 2, perAddressMax: 100 }))
  const app = broker.app
  const accepted = (await app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })).json()
  const d = accepted.destinations[0]
  const token = new URL(d.uri).searchParams.get('token')
  t.equal((await app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token}` })).statusCode, 200)
  const read = await app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(read.statusCode, 200)
  t.equal(read.headers['x-ratelimit-remaining'], '0')
  const answer = await app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  assertRateLimited(t, answer)
  t.match(answer.json().message, /for this box/)
  t.equal(await metricValue(app, 'hermod_rate_limited_total{limit="box"}'), 1)
  // Another box, and text that is no box id, are counted apart.
  t.equal((await app.inject({ url: `/hermod/rest/ms/${BID}?token=${BID}` })).statusCode, 404)
  t.equal((await app.inject({ url: '/hermod/rest/ms/not-a-box?token=x' })).statusCode, 404)
})

t.test('a long poll counts once, however long it waits', async (t) => {
  const { broker, key } = await buildTestBroker(t, limitedConfig({ perBoxMax: 2, perAddressMax: 100 }))
  const app = broker.app
  const accepted = (await app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') }, payload: { commandHeader: { to: ['poller'] } } })).json()
  const d = accepted.destinations[0]
  const token = new URL(d.uri).searchParams.get('token')
  await app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  // The box is empty now: the poll waits its full second (while waiting it is one request, counted at its start).
  const polled = await app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token}&wait=1` })
  t.equal(polled.statusCode, 200)
  t.same(polled.json().messages, [])
  t.equal(polled.headers['x-ratelimit-remaining'], '0', 'the answer and the poll are the box\'s two requests')
  assertRateLimited(t, await app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token}` }))
})

t.test('the device side is also counted per remote address, across boxes', async (t) => {
  const { broker } = await buildTestBroker(t, limitedConfig({ perBoxMax: 100, perAddressMax: 3 }))
  const app = broker.app
  const boxes = ['a', 'b', 'c', 'd'].map((c) => BID.replace(/^./, c))
  for (const bid of boxes.slice(0, 3)) t.equal((await app.inject({ url: `/hermod/rest/ms/${bid}?token=${bid}`, remoteAddress: '192.0.2.7' })).statusCode, 404)
  const refused = await app.inject({ url: `/hermod/rest/ms/${boxes[3]}?token=x`, remoteAddress: '192.0.2.7' })
  assertRateLimited(t, refused)
  t.match(refused.json().message, /from this address/)
  t.equal(refused.headers['x-ratelimit-limit'], undefined, 'the address budget sends Retry-After only')
  t.equal(await metricValue(app, 'hermod_rate_limited_total{limit="address"}'), 1)
  t.equal((await app.inject({ url: `/hermod/rest/ms/${boxes[3]}?token=x`, remoteAddress: '192.0.2.8' })).statusCode, 404, 'another address is served')
})

t.test('off by default: no budget, no rate-limit headers', async (t) => {
  const { broker, key } = await buildTestBroker(t, testConfig())
  for (let i = 0; i < 50; i++) {
    const res = await broker.app.inject({ url: '/hermod/rest/command/1', headers: { 'x-api-key': key('prime') } })
    t.equal(res.statusCode, 404)
    t.equal(res.headers['x-ratelimit-limit'], undefined)
  }
  t.equal(await metricValue(broker.app, 'hermod_rate_limited_total{limit="client"}'), 0)
})

t.test('the API document lists 429 on the limited operations only', async (t) => {
  const { broker } = await buildTestBroker(t, limitedConfig())
  const doc = (await broker.app.inject({ url: '/hermod/v3/api-docs' })).json()
  for (const [path, method] of [['/hermod/rest/command/sign', 'post'], ['/hermod/rest/command/ping', 'post'], ['/hermod/rest/command/{commandId}', 'get'], ['/hermod/rest/command/{commandId}', 'delete'],
    ['/hermod/rest/ms/{bid}', 'get'], ['/hermod/rest/ms/{bid}/{mid}', 'get'], ['/hermod/rest/ms/{bid}/{mid}', 'post']] as const) {
    const documented = doc.paths[path]?.[method]?.responses?.['429']
    t.match(documented, { description: /HERMOD_RATE_LIMITED/, headers: { 'retry-after': { schema: { type: 'integer' } } } }, `${method} ${path} documents 429`)
    t.equal(documented?.content?.['application/json']?.schema?.$ref, '#/components/schemas/HermodError', 'the error body')
  }
  t.equal(doc.paths['/hermod/actuator/health']?.get?.responses?.['429'], undefined)
})
