// The device side over HTTP: list with token, long polling, read, answer once; 404/409/410 as specified.
import t, { type Test } from 'tap'
import type { BrokerConfig } from '../../src/config/types.js'
import type { BoxMessage } from '../../src/mailbox/types.js'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

const token = (uri: string): string => new URL(uri).searchParams.get('token')!
/** The same token with its last digit changed: wrong by one character. */
const otherToken = (t: string): string => t.slice(0, -1) + (t.endsWith('0') ? '1' : '0')

t.test('a device lists its box with the token (query or header), oldest first', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const a = (await post('sign', { commandHeader: { to: ['john.doe'], externalId: 'e1' } })).json.destinations[0]
  const b = (await post('authenticate', { commandHeader: { to: ['john.doe'] } })).json.destinations[0]
  const list = await broker.app.inject({ url: `/hermod/rest/ms/${a.bid}?token=${token(a.uri)}` })
  t.equal(list.statusCode, 200)
  t.equal(list.json().bid, a.bid)
  t.same(list.json().messages.map((m: { mid: string }) => m.mid), [a.mid, b.mid])
  t.match(list.json().messages[0], { commandType: 'SIGN', location: a.location, createdAt: String, timeoutAt: String })
  const viaHeader = await broker.app.inject({ url: `/hermod/rest/ms/${a.bid}`, headers: { 'x-hermod-token': token(a.uri) } })
  t.equal(viaHeader.statusCode, 200)
  t.equal(viaHeader.json().messages.length, 2)
  const unknown = await broker.app.inject({ url: '/hermod/rest/ms/6c5f3a2e-1111-4222-8333-444455556666?token=x' })
  for (const bad of [`/hermod/rest/ms/${a.bid}`, `/hermod/rest/ms/${a.bid}?token=wrong`, `/hermod/rest/ms/${a.bid}?token=${otherToken(token(b.uri))}`, '/hermod/rest/ms/not-a-uuid?token=x']) {
    const res = await broker.app.inject({ url: bad })
    t.equal(res.statusCode, 404, bad)
    t.same(res.json(), unknown.json(), 'wrong or missing token reads exactly like an unknown box')
  }
  t.equal(unknown.json().code, 'HERMOD_BOX_NOT_FOUND')
})

t.test('long polling: an empty box is held until a message arrives', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const first = (await post('sign', { commandHeader: { to: ['poller'] } })).json
  const d = first.destinations[0]
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  const started = Date.now()
  const polling = broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=10` })
  await new Promise((resolve) => setTimeout(resolve, 150))
  const second = (await post('sign', { commandHeader: { to: ['poller'] } })).json.destinations[0]
  const res = await polling
  t.equal(res.statusCode, 200)
  t.same(res.json().messages.map((m: { mid: string }) => m.mid), [second.mid])
  t.ok(Date.now() - started < 5000, 'answered on arrival, not at the end of the wait')
  const empty = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=1` })
  t.same(empty.json().messages.length, 1)
  const tooLong = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=61` })
  t.equal(tooLong.statusCode, 400)
  const notNumber = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=abc` })
  t.equal(notNumber.statusCode, 400)
})

/**
 * A message that lands while the long poll's first listing runs must wake it. The broker's real store is
 * wrapped so that its first listing of the box reads the (empty) box, then lets a command be accepted into it
 * and waits until the store announced that activity (~100 ms at least) before answering the stale empty
 * listing: the moment a poll that registers its wait only after listing loses the wake-up.
 */
async function messageDuringListing (t: Test, config: BrokerConfig): Promise<void> {
  const { post, broker } = await buildTestBroker(t, config)
  const store = broker.context.store
  const d = (await post('sign', { commandHeader: { to: ['slow-listing'] } })).json.destinations[0]
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  const realList = store.listBox.bind(store)
  let landed: Promise<string> | undefined
  store.listBox = async (bid: string, boxToken: string, now: number): Promise<BoxMessage[] | null> => {
    const listing = await realList(bid, boxToken, now)
    if (landed === undefined && bid === d.bid) {
      const announced = new Promise<void>((resolve) => {
        const stop = store.onBoxActivity((active) => { if (active === bid) { stop(); resolve() } })
      })
      landed = post('sign', { commandHeader: { to: ['slow-listing'] } }).then((r) => r.json.destinations[0].mid as string)
      await Promise.all([landed, announced, new Promise((resolve) => setTimeout(resolve, 100))])
    }
    return listing
  }
  const started = Date.now()
  const res = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=10` })
  const took = Date.now() - started
  t.equal(res.statusCode, 200)
  t.ok(landed !== undefined, 'a command was accepted into the box during the first listing')
  t.same(res.json().messages.map((m: { mid: string }) => m.mid), [await landed], 'the poll answers with it')
  t.ok(took < 5_000, `answered well before the 10 s wait ended (${took} ms)`)
}

t.test('long polling: a message landing during the listing wakes the poll (memory store)', async (t) => {
  await messageDuringListing(t, testConfig())
})

t.test('long polling: a message landing during the listing wakes the poll (Redis store)', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  await messageDuringListing(t, testConfig({ broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} } } }))
})

t.test('long polling ends empty after the wait', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const d = (await post('sign', { commandHeader: { to: ['quiet'] } })).json.destinations[0]
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'REJECTED' } })
  const started = Date.now()
  const res = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}&wait=1` })
  t.equal(res.statusCode, 200)
  t.same(res.json().messages, [])
  t.ok(Date.now() - started >= 900, 'held for the wait')
})

t.test('read and answer: once; then 409; a REJECTED answer; bad answers are 400', async (t) => {
  const { post, broker } = await buildTestBroker(t)
  const d = (await post('sign', { commandHeader: { timeout: 30, lifespan: 60, externalId: 'order-17' }, signCommand: { params: { tbs: 'x' } } })).json.destinations[0]
  const read = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(read.statusCode, 200)
  t.match(read.headers['content-type'], /application\/json/)
  const body = read.json()
  t.same(Object.keys(body), ['bid', 'mid', 'commandType', 'header', 'command'])
  t.match(body, { bid: d.bid, mid: d.mid, commandType: 'SIGN', header: { lifespan: 60, timeout: 30, externalId: 'order-17' }, command: { signCommand: { params: { tbs: 'x' } } } })
  t.ok(Date.parse(body.header.timeoutAt) - Date.parse(body.header.createdAt) === 30_000)
  for (const bad of [{}, { status: 'ok' }, { status: 'MAYBE' }, { status: 1 }, []]) {
    const res = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: bad as object })
    t.equal(res.statusCode, 400, JSON.stringify(bad))
    t.equal(res.json().code, 'HERMOD_INVALID_ANSWER')
  }
  const response = { jws: 'eyJhbGciOiJSUzI1NiJ9.e30.sig', cert: ['MIIB'] }
  const ok = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { state: 'COMPLETED' })
  const again = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response } })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'HERMOD_MESSAGE_DECIDED')
  const reread = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(reread.statusCode, 409)
  const r = (await post('sign', {})).json.destinations[0]
  const rejected = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${r.bid}/${r.mid}`, payload: { status: 'REJECTED' } })
  t.same(rejected.json(), { state: 'REJECTED' })
})

t.test('after the timeout: 410 for read and answer, the box is empty, status says TIMEOUT (R7)', async (t) => {
  const { post, broker, clock, key } = await buildTestBroker(t)
  const accepted = (await post('sign', { commandHeader: { timeout: 10, lifespan: 20 } })).json
  const d = accepted.destinations[0]
  clock.advance(10_000)
  const read = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })
  t.equal(read.statusCode, 410)
  t.equal(read.json().code, 'HERMOD_MESSAGE_TIMED_OUT')
  const answer = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  t.equal(answer.statusCode, 410)
  const list = await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}` })
  t.same(list.json().messages, [])
  const status = await broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(status.json().state, 'TIMEOUT')
})

t.test('after the lifespan: status, list, read and answer all answer 404 (R10)', async (t) => {
  const { post, broker, clock, key } = await buildTestBroker(t)
  const accepted = (await post('sign', { commandHeader: { timeout: 10, lifespan: 20 } })).json
  const d = accepted.destinations[0]
  clock.advance(9_999)
  t.equal((await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` })).statusCode, 200, 'readable before the timeout')
  clock.advance(10_001)
  const checks = [
    await broker.app.inject({ url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } }),
    await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': key('prime') } }),
    await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}?token=${token(d.uri)}` }),
    await broker.app.inject({ url: `/hermod/rest/ms/${d.bid}/${d.mid}` }),
    await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK' } })
  ]
  t.same(checks.map((r) => r.statusCode), [404, 404, 404, 404, 404])
  t.same(checks.map((r) => r.json().code), ['HERMOD_COMMAND_NOT_FOUND', 'HERMOD_COMMAND_NOT_FOUND', 'HERMOD_BOX_NOT_FOUND', 'HERMOD_MESSAGE_NOT_FOUND', 'HERMOD_MESSAGE_NOT_FOUND'])
})
