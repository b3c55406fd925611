// The server-system API over HTTP: accept's exact shape, defaults and limits, status, cancel, named boxes.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'

const examples = new URL('../../examples/hermod/', import.meta.url)
const example = (name: string): unknown => JSON.parse(readFileSync(new URL(name, examples), 'utf8'))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('accepting the documented sign command answers 200 with Hermod\'s shape', async (t) => {
  const { post } = await buildTestBroker(t)
  const res = await post('sign', example('sign-command.json'))
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json).sort(), ['commandId', 'commandType', 'destinations', 'fqdn', 'state'])
  t.match(res.json.commandId, /^[0-9]+$/)
  t.equal(res.json.commandType, 'SIGN')
  t.equal(res.json.state, 'IN_PROGRESS')
  t.equal(res.json.fqdn, 'broker.example')
  t.equal(res.json.destinations.length, 1)
  const d = res.json.destinations[0]
  t.equal(d.to, '@tmp')
  t.match(d.bid, UUID)
  t.match(d.mid, UUID)
  t.equal(d.location, `https://broker.example:20400/hermod/rest/ms/${d.bid}/${d.mid}`)
  const uri = new URL(d.uri)
  t.equal(d.uri.split('?')[0], 'com.nexusgroup.plugout:///')
  t.equal(uri.searchParams.get('url'), `https://broker.example:20400/hermod/rest/ms/${d.bid}`)
  t.match(uri.searchParams.get('token'), UUID)
  t.ok(d.uri.includes(`url=${encodeURIComponent(`https://broker.example:20400/hermod/rest/ms/${d.bid}`)}&token=`), 'url is URL-encoded')
})

t.test('every command type is accepted; others are 404 naming the allowed types', async (t) => {
  const { post } = await buildTestBroker(t)
  for (const [type, body] of [['provision', example('provision-command.json')], ['certificate', { certCommand: {} }], ['authenticate', example('authenticate-command.json')], ['sign', example('sign-command.json')], ['ping', {}]] as const) {
    const res = await post(type, body)
    t.equal(res.statusCode, 200, type)
    t.equal(res.json.commandType, type.toUpperCase())
  }
  const res = await post('launch', {})
  t.equal(res.statusCode, 404)
  t.equal(res.json.code, 'HERMOD_UNKNOWN_COMMAND_TYPE')
  t.match(res.json.message, /provision, certificate, authenticate, sign, ping/)
})

t.test('ping accepts an empty body; other types need one', async (t) => {
  const { broker, key, post } = await buildTestBroker(t)
  const empty = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
  t.equal(empty.statusCode, 200)
  const emptyJson = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime'), 'content-type': 'application/json' } })
  t.equal(emptyJson.statusCode, 200)
  const sign = await post('sign', '')
  t.equal(sign.statusCode, 400)
  t.equal(sign.json.code, 'HERMOD_INVALID_COMMAND')
})

t.test('timeout and lifespan: defaults, one from the other, limits', async (t) => {
  const commands = { defaultTimeout: 120, defaultLifespan: 600, maxTimeout: 1000, maxLifespan: 2000 }
  const { post, broker, key } = await buildTestBroker(t, testConfig({ broker: { commands } }))
  const status = async (id: string): Promise<any> => (await broker.app.inject({ url: `/hermod/rest/command/${id}`, headers: { 'x-api-key': key('prime') } })).json()
  const times = async (header: object): Promise<[number, number]> => {
    const res = await post('sign', { commandHeader: header, signCommand: {} })
    t.equal(res.statusCode, 200, JSON.stringify(header))
    const s = await status(res.json.commandId)
    const created = Date.parse(s.createdAt)
    return [(Date.parse(s.timeoutAt) - created) / 1000, (Date.parse(s.expiresAt) - created) / 1000]
  }
  t.same(await times({}), [120, 600], 'both omitted: configured defaults')
  t.same(await times({ timeout: 45 }), [45, 45], 'lifespan omitted: equals timeout')
  t.same(await times({ lifespan: 90 }), [90, 90], 'timeout omitted: equals lifespan')
  t.same(await times({ timeout: 30, lifespan: 30 }), [30, 30])
  for (const [header, pattern] of [
    [{ timeout: 60, lifespan: 30 }, /timeout \(60\) must not exceed commandHeader.lifespan \(30\)/],
    [{ timeout: 1001, lifespan: 1500 }, /maximum of 1000/],
    [{ lifespan: 2001 }, /maximum/],
    [{ timeout: 0 }, /timeout must be >= 1/],
    [{ timeout: -5 }, /timeout/],
    [{ timeout: 1.5 }, /timeout must be integer/],
    [{ timeout: '30' }, /timeout must be integer/],
    [{ timeout: 1e308 }, /maximum/],
    [{ to: 'john' }, /to must be array/],
    [{ to: [] }, /to must NOT have fewer than 1 items/],
    [{ to: [''] }, /to\/0 must NOT have fewer than 1 characters/],
    [{ externalId: 17 }, /externalId must be string/]
  ] as const) {
    const res = await post('sign', { commandHeader: header, signCommand: {} })
    t.equal(res.statusCode, 400, JSON.stringify(header))
    t.equal(res.json.code, 'HERMOD_INVALID_COMMAND')
    t.match(res.json.message, pattern)
  }
  const several = await post('sign', { commandHeader: { timeout: 'x', lifespan: -1, externalId: 3 } })
  t.equal(several.json.details.length, 1, 'validation stops at the first problem (no allErrors: its cost grows with the input)')
  t.match(several.json.details[0].path, /^body\/commandHeader\/(externalId|lifespan|timeout)$/, 'the problem comes with its path')
})

t.test('unknown header fields are ignored; the payload reaches the device untouched', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const payload = { signCommand: { params: { tbs: [{ data: 'VGVzdA==', n: 1.5, nested: { a: [true, null, 'é€'] } }] } }, extra: 'kept' }
  const res = await post('sign', { commandHeader: { timeout: 30, priority: 'high', ttl: 'x' }, ...payload })
  t.equal(res.statusCode, 200)
  const d = res.json.destinations[0]
  const read = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(read.statusCode, 200)
  t.same(read.json().command, payload)
  t.same(read.json().header.timeout, 30)
})

t.test('status query and cancel', async (t) => {
  const { post, broker, key } = await buildTestBroker(t)
  const accepted = (await post('authenticate', example('authenticate-command.json'))).json
  const get = await broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(get.statusCode, 200)
  t.match(get.json(), { commandId: accepted.commandId, commandType: 'AUTHENTICATE', state: 'IN_PROGRESS', externalId: 'login-4711', destinations: accepted.destinations })
  const fromHag = await broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('hag') } })
  t.equal(fromHag.statusCode, 200, 'clients of one group see each other\'s commands')
  const del = await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(del.statusCode, 200)
  t.equal(del.json().state, 'CANCELLED')
  const again = await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(again.statusCode, 200, 'cancelling a cancelled command is idempotent')
  const d = accepted.destinations[0]
  const answered = (await post('sign', {})).json
  const a = answered.destinations[0]
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${a.bid}/${a.mid}`, payload: { status: 'OK', response: { jws: 'x' } } })
  const late = await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${answered.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(late.statusCode, 409)
  t.equal(late.json().code, 'HERMOD_COMMAND_FINISHED')
  const read = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(read.statusCode, 409, 'a device sees the cancelled command as decided')
  const completed = await broker.app.inject({ url: `/hermod/rest/command/${answered.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.match(completed.json(), { state: 'COMPLETED', response: { jws: 'x' }, answeredBy: { to: '@tmp', bid: a.bid, mid: a.mid } })
  t.ok(completed.json().finishedAt)
})

t.test('named boxes are shared by the clients of a group (PRIME and HAG)', async (t) => {
  const { post } = await buildTestBroker(t)
  const a = (await post('sign', { commandHeader: { to: ['john.doe'] } }, 'prime')).json.destinations[0]
  const b = (await post('authenticate', { commandHeader: { to: ['john.doe'] } }, 'hag')).json.destinations[0]
  const c = (await post('sign', { commandHeader: { to: ['john.doe'] } }, 'other')).json.destinations[0]
  t.equal(a.bid, b.bid)
  t.equal(new URL(a.uri).searchParams.get('token'), new URL(b.uri).searchParams.get('token'))
  t.not(a.bid, c.bid, 'another group has its own john.doe')
})

t.test('several destinations: one message each, in order, the first answer decides', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const res = await post('sign', { commandHeader: { to: ['alice', '@tmp', 'bob'] } })
  t.same(res.json.destinations.map((d: { to: string }) => d.to), ['alice', '@tmp', 'bob'])
  const [first, second] = res.json.destinations
  const ok = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${second.bid}/${second.mid}`, payload: { status: 'OK' } })
  t.equal(ok.statusCode, 200)
  const late = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${first.bid}/${first.mid}`, payload: { status: 'OK' } })
  t.equal(late.statusCode, 409)
})

t.test('too many destinations is a 400', async (t) => {
  const { post } = await buildTestBroker(t, testConfig({ broker: { commands: { maxDestinations: 3 } } }))
  const res = await post('sign', { commandHeader: { to: ['a', 'b', 'c', 'd'] } })
  t.equal(res.statusCode, 400)
  t.match(res.json.message, /commandHeader\/to must NOT have more than 3 items/)
})

t.test('Idempotency-Key: the same request twice is one command (R6)', async (t) => {
  const { broker, key } = await buildTestBroker(t)
  const send = (body: object, k = 'order-17-attempt'): Promise<any> => broker.app.inject({
    method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key('prime'), 'idempotency-key': k }, payload: body
  })
  const first = await send({ signCommand: { a: 1 } })
  const second = await send({ signCommand: { a: 1 } })
  t.equal(first.statusCode, 200)
  t.equal(second.statusCode, 200)
  t.equal(second.json().commandId, first.json().commandId)
  t.equal(second.headers['idempotent-replayed'], 'true')
  const conflict = await send({ signCommand: { a: 2 } })
  t.equal(conflict.statusCode, 422)
  t.equal(conflict.json().code, 'HERMOD_IDEMPOTENCY_CONFLICT')
  const bad = await send({}, 'x'.repeat(300))
  t.equal(bad.statusCode, 400)
})

t.test('an empty context path and uri-base serve the API at the root', async (t) => {
  const { broker, key } = await buildTestBroker(t, testConfig({ server: { contextPath: '' }, uriBase: '' }))
  const res = await broker.app.inject({ method: 'POST', url: '/command/ping', headers: { 'x-api-key': key('prime') } })
  t.equal(res.statusCode, 200)
  const health = await broker.app.inject({ url: '/actuator/health' })
  t.equal(health.statusCode, 200)
  const old = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
  t.equal(old.statusCode, 404)
  t.equal(old.json().code, 'HERMOD_NOT_FOUND')
})
