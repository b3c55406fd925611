// On the embedded store: commands and boxes listed and filtered by a peek that changes nothing; the clock advanced; reset.
import t from 'tap'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'
import { startDevBroker } from './helpers.js'

const devConfig = testConfig({ broker: { dev: { enabled: true }, devSink: true } })

t.test('commands are listed newest first and filtered by q and by single parameters; bad filters are 400', async (t) => {
  const { broker, post } = await buildTestBroker(t, devConfig)
  const sign = (await post('sign', { commandHeader: { externalId: 'order-17', to: ['john.doe'] } })).json
  const auth = (await post('authenticate', { commandHeader: { externalId: 'login-1' } }, 'hag')).json
  const other = (await post('ping', {}, 'other')).json
  const list = async (query: string): Promise<any> => (await broker.app.inject({ url: `/hermod/dev/api/commands${query}` })).json()
  t.same((await list('')).commands.map((c: any) => c.commandId), [other.commandId, auth.commandId, sign.commandId], 'every group, newest first')
  t.same((await list('?q=type:sign')).commands.map((c: any) => c.commandId), [sign.commandId])
  t.same((await list('?q=ext:order-*%20state:in_progress')).commands.map((c: any) => c.commandId), [sign.commandId])
  t.same((await list('?client=hag')).commands.map((c: any) => c.commandId), [auth.commandId])
  t.same((await list('?group=globex')).commands.map((c: any) => c.commandId), [other.commandId])
  t.same((await list('?q=box:john.doe')).commands.map((c: any) => c.commandId), [sign.commandId])
  t.same((await list('?limit=1')).commands.length, 1)
  const listed = (await list('?q=type:sign')).commands[0]
  t.match(listed, { commandType: 'SIGN', state: 'IN_PROGRESS', group: 'acme', clientId: 'prime', externalId: 'order-17', destinations: [{ to: 'john.doe', bid: sign.destinations[0].bid, uri: sign.destinations[0].uri }] })
  t.equal(listed.payload, undefined, 'the listing leaves payloads out')
  const bad = await broker.app.inject({ url: '/hermod/dev/api/commands?q=type:fax' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'HERMOD_INVALID_REQUEST')
  t.match(bad.json().message, /unknown command type "fax"/)
  const boxes = (await broker.app.inject({ url: '/hermod/dev/api/boxes?q=group:acme' })).json().boxes
  t.same(boxes.map((b: any) => b.to).sort(), ['@tmp', 'john.doe'])
  t.match(boxes.find((b: any) => b.to === 'john.doe'), { bid: sign.destinations[0].bid, group: 'acme', messages: [{ mid: sign.destinations[0].mid, commandId: sign.commandId, commandType: 'SIGN', state: 'IN_PROGRESS' }] })
})

t.test('a peek never changes state: a command past its timeout shows TIMEOUT but is not timed out until a real read', async (t) => {
  const { broker, post, clock } = await buildTestBroker(t, devConfig)
  const accepted = (await post('sign', { commandHeader: { timeout: 10, lifespan: 60 }, signCommand: { params: { tbs: 'VGVzdA==' } } })).json
  clock.advance(11_000)
  const peek = await broker.app.inject({ url: `/hermod/dev/api/commands/${accepted.commandId}` })
  t.equal(peek.statusCode, 200)
  t.match(peek.json(), { commandId: accepted.commandId, state: 'TIMEOUT', payload: { signCommand: { params: { tbs: 'VGVzdA==' } } } })
  t.equal(peek.json().finishedAt, undefined, 'not finished: only reported as a read would see it')
  await broker.app.inject({ url: '/hermod/dev/api/commands?q=state:timeout' })
  await broker.app.inject({ url: '/hermod/dev/api/boxes' })
  const { store } = broker.context
  t.same(await store.readOutbox(10), [], 'no TIMEOUT event was written by the peeks')
  await broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': (await import('../../src/auth/api-key.js')).apiKeyHeader('prime', (await import('../helpers/config.js')).KEYS.prime) } })
  t.equal((await store.readOutbox(10)).length, 1, 'the status query (a real read) times it out')
  t.equal((await broker.app.inject({ url: '/hermod/dev/api/commands/99999' })).statusCode, 404)
})

t.test('the clock advance fires a due timeout at once (its callback awaited with callbacks/wait) and reaches the lifespan; reset forgets everything', async (t) => {
  const dev = await startDevBroker(t)
  const accepted = await dev.post('sign', { commandHeader: { timeout: 60, lifespan: 120, externalId: 'slow-user' } })
  const before = (await dev.call('GET', '/hermod/dev/api/clock')).json
  t.equal(before.advanceable, true, 'the embedded store\'s clock is advanceable under the dev surface')
  const advanced = await dev.call('POST', '/hermod/dev/api/clock/advance', { ms: 60_000 })
  t.equal(advanced.status, 200)
  t.equal(advanced.json.timedOut, 1)
  t.ok(Date.parse(advanced.json.now) - Date.parse(before.now) >= 60_000)
  const callback = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&state=TIMEOUT&until=delivered&timeout=30`)
  t.match(callback.json, { state: 'TIMEOUT', outcome: 'delivered' })
  const d = accepted.destinations[0]
  t.equal((await dev.call('GET', `/hermod/rest/ms/${d.bid}/${d.mid}`)).status, 410, 'the device sees the timeout')
  await dev.call('POST', '/hermod/dev/api/clock/advance', { ms: 60_000 })
  t.equal((await dev.call('GET', `/hermod/rest/ms/${d.bid}/${d.mid}`)).status, 404, 'past the lifespan')
  t.equal((await dev.call('POST', '/hermod/dev/api/clock/advance', { ms: -5 })).status, 400)

  const kept = await dev.post('ping', {})
  t.equal((await dev.call('GET', '/hermod/dev/api/commands')).json.commands[0].commandId, kept.commandId)
  const reset = await dev.call('POST', '/hermod/dev/api/reset')
  t.same(reset.json, { reset: true })
  t.same((await dev.call('GET', '/hermod/dev/api/commands')).json.commands, [])
  t.same((await dev.call('GET', '/hermod/dev/api/callbacks')).json.deliveries, [])
  t.same((await dev.call('GET', '/hermod/dev/callbacks')).json.callbacks, [])
  const k = kept.destinations[0]
  t.equal((await dev.call('GET', `/hermod/rest/ms/${k.bid}/${k.mid}`)).status, 404, 'the command is gone')
})
