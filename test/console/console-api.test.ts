// The console's dev API without a browser: the SSE feed resumes by Last-Event-ID, the page and API are guarded, and each tool's edge cases.
import t from 'tap'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { checkSignature } from '../../src/console/callback-tools-routes.js'
import { maskSecret } from '../../src/console/clients-routes.js'
import { MemoryConsoleFeed, compareFeedIds } from '../../src/console/feed.js'
import { personalLink } from '../../src/console/links.js'
import { webDirectory } from '../../src/console/page-routes.js'
import { parseDeviceLink } from '../../src/device/links.js'
import { KEYS, testClients } from '../helpers/config.js'
import { startDevBroker } from '../dev/helpers.js'
import { readEvents } from './helpers.js'

t.test('the feed replays after Last-Event-ID, in order, then goes live', async (t) => {
  const dev = await startDevBroker(t)
  const first = await dev.post('ping', { commandHeader: {} })
  const second = await dev.post('sign', { commandHeader: {}, signCommand: { params: { tbs: 'VGVzdA==' } } })
  const all = await readEvents(`${dev.base}/hermod/dev/api/events?lastEventId=0`, 2)
  t.same(all.map((e) => [e.event, JSON.parse(e.data!).commandId]), [['accepted', first.commandId], ['accepted', second.commandId]])
  // Resumed after the first: only the second, then the answer as it happens.
  const resumed = readEvents(`${dev.base}/hermod/dev/api/events`, 3, { 'last-event-id': all[0]!.id! })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await dev.answer(second), 200)
  const events = await resumed
  t.equal(events[0]!.event, 'accepted', 'the replay starts after the given id')
  t.equal(JSON.parse(events[0]!.data!).commandId, second.commandId)
  t.ok(events.slice(1).some((e) => e.event === 'answered'), 'the answer arrives live')
  // The timeline of the answered command.
  const timeline = (await dev.call('GET', `/hermod/dev/api/commands/${second.commandId}/timeline`)).json.events
  t.same(timeline.map((e: any) => e.kind).filter((k: string) => k !== 'callback'), ['accepted', 'answered'])
})

t.test('an id from before a restart (newer than the feed\'s newest) is a gap, and the stream goes on live', async (t) => {
  const dev = await startDevBroker(t)
  const stream = readEvents(`${dev.base}/hermod/dev/api/events`, 2, { 'last-event-id': '999' })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const accepted = await dev.post('ping', { commandHeader: {} })
  const events = await stream
  t.same(events.map((e) => e.event), ['gap', 'accepted'])
  t.equal(JSON.parse(events[1]!.data!).commandId, accepted.commandId, 'ids below the stale one are sent')
})

t.test('the memory feed reports a gap once the events after an id were dropped', async (t) => {
  const feed = new MemoryConsoleFeed(3)
  for (let i = 0; i < 5; i++) await feed.append({ at: new Date(0).toISOString(), kind: 'accepted', commandId: String(i) })
  t.same(await feed.since('1', 10).then((r) => [r.gap, r.events.map((e) => e.id)]), [true, ['3', '4', '5']])
  t.same(await feed.since('3', 10).then((r) => [r.gap, r.events.map((e) => e.id)]), [false, ['4', '5']])
  t.ok(compareFeedIds('1700000000000-2', '1700000000000-10') < 0, 'stream ids compare by sequence')
  t.ok(compareFeedIds('9', '10') < 0)
})

t.test('the console page and its dev API answer loopback callers only, like the dev API', async (t) => {
  const dev = await startDevBroker(t)
  for (const url of ['/hermod/console/', '/hermod/console/console.js', '/hermod/dev/api/events', '/hermod/dev/api/clients', '/hermod/dev/api/qr?text=x']) {
    const res = await dev.broker.app.inject({ url, remoteAddress: '192.0.2.10' })
    t.equal(res.statusCode, 403, url)
    t.equal(res.json().code, 'HERMOD_FORBIDDEN')
  }
  const page = await dev.call('GET', '/hermod/console/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-security-policy'), /default-src 'self'/)
  t.match(page.json, /<script type="module" src="console.js">/)
  t.equal((await fetch(`${dev.base}/hermod/console`, { redirect: 'manual' })).headers.get('location'), '/hermod/console/')
})

t.test('with broker.dev credentials the console opens to others with Basic auth', async (t) => {
  const dev = await startDevBroker(t, { broker: { dev: { credentials: { username: 'dev', password: 'sesame' } } } } as never)
  const basic = `Basic ${Buffer.from('dev:sesame').toString('base64')}`
  t.equal((await dev.broker.app.inject({ url: '/hermod/console/', remoteAddress: '192.0.2.10' })).statusCode, 401)
  t.equal((await dev.broker.app.inject({ url: '/hermod/console/', remoteAddress: '192.0.2.10', headers: { authorization: basic } })).statusCode, 200)
})

t.test('the page is served from the source folder when the module runs from dist', async (t) => {
  const fromDist = pathToFileURL(join(process.cwd(), 'dist', 'src', 'console', 'page-routes.js')).href
  t.equal(webDirectory(fromDist), join(process.cwd(), 'src', 'console', 'web') + '/')
  t.ok(existsSync(join(webDirectory(), 'index.html')))
  t.equal(fileURLToPath(new URL('./web/', import.meta.url)).length > 0, true)
})

t.test('tools: clients masked, a new client, the device answer, cancel, content, verify and resend refusals', async (t) => {
  const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`
  const dev = await startDevBroker(t, {}, {}, (sink) => testClients(sink).map((c) => c.clientId === 'prime'
    ? { ...c, callbackSecret: secret, contentProviderUrl: `${sink}/content` }
    : c))
  const clients = (await dev.call('GET', '/hermod/dev/api/clients')).json.clients
  const text = JSON.stringify(clients)
  t.notOk(text.includes(KEYS.prime) || text.includes(secret), 'no key or secret in full')
  t.match(clients.find((c: any) => c.clientId === 'prime'), { group: 'acme', key: `${KEYS.prime.slice(0, 4)}… (64 chars)`, callbackSecret: /^whse… \(/ })
  t.equal(maskSecret(undefined), undefined)
  const generated = await dev.call('GET', '/hermod/dev/api/clients/generate/new-one?group=acme')
  t.match(generated.json, /- client-id: new-one\n {2}key: [0-9a-f]{64}\n {2}group: acme/)
  t.equal((await dev.call('GET', '/hermod/dev/api/clients/generate/-bad')).status, 400)

  const accepted = await dev.post('sign', {
    commandHeader: { externalId: 'c-1' },
    signCommand: { params: { description: [{ key: 'doc', content_type: 'application/hermod+content-id', data: 'DOC-1' }], tbs: 'VGVzdA==' } }
  })
  const content = (await dev.call('GET', `/hermod/dev/api/commands/${accepted.commandId}/content`)).json
  t.equal(content.resolved, true)
  t.match(content.payload.signCommand.params.description[0], { key: 'image', content_type: 'image/png', content_encoding: 'base64' })
  const refused = (await dev.call('POST', '/hermod/dev/api/device/answer', { commandType: 'SIGN', command: {}, status: 'REJECTED' })).json
  t.same(refused, { status: 'REJECTED', response: { reason: 'rejected on the developer console' } })
  t.equal((await dev.call('POST', `/hermod/dev/api/commands/${accepted.commandId}/cancel`)).json.state, 'CANCELLED')
  t.equal((await dev.call('POST', `/hermod/dev/api/commands/${accepted.commandId}/cancel`)).json.state, 'CANCELLED', 'cancel is idempotent like DELETE')
  const answered = await dev.post('ping', { commandHeader: {} })
  await dev.answer(answered, 'OK', { pong: true })
  const finished = await dev.call('POST', `/hermod/dev/api/commands/${answered.commandId}/cancel`)
  t.equal(finished.status, 409)
  t.equal(finished.json.code, 'HERMOD_COMMAND_FINISHED')
  t.equal((await dev.call('POST', '/hermod/dev/api/commands/999999/cancel')).json.code, 'HERMOD_DEV_COMMAND_NOT_FOUND')
  t.equal((await dev.call('POST', '/hermod/dev/api/callbacks/verify', { eventId: 'cmd_nope' })).json.code, 'HERMOD_CALLBACK_NOT_LOGGED')
  t.equal((await dev.call('POST', '/hermod/dev/api/callbacks/resend', { eventId: 'cmd_nope' })).status, 404)
  t.equal((await dev.call('POST', '/hermod/dev/api/dead-letters/nope/replay')).json.code, 'HERMOD_DEAD_LETTER_NOT_FOUND')
  t.equal((await dev.call('GET', '/hermod/dev/api/qr')).status, 400)
  const svg = await fetch(`${dev.base}/hermod/dev/api/qr?text=hello`)
  t.equal(svg.headers.get('content-type'), 'image/svg+xml')
  t.match(await svg.text(), /^<svg /)
})

t.test('the signature check and the personal:// link', async (t) => {
  const secret = `whsec_${Buffer.alloc(24, 9).toString('base64')}`
  const at = new Date(1_700_000_000_000)
  const header = new Webhook(secret).sign('msg_1', at, '{"a":1}')
  const ts = String(Math.floor(at.getTime() / 1000))
  t.ok(checkSignature(secret, 'msg_1', ts, '{"a":1}', `v1,bogus ${header}`))
  t.notOk(checkSignature(secret, 'msg_1', ts, '{"a":2}', header), 'another body')
  t.notOk(checkSignature(`whsec_${Buffer.alloc(24, 8).toString('base64')}`, 'msg_1', ts, '{"a":1}', header), 'another secret')
  const link = personalLink('https://broker.example/hermod/rest/ms', 'c0ffee00-0000-4000-8000-000000000001', 'tok123')
  t.same(parseDeviceLink(link), { kind: 'box', boxUrl: 'https://broker.example/hermod/rest/ms/c0ffee00-0000-4000-8000-000000000001', token: 'tok123' })
})

t.test('the OpenAPI document lists the console\'s dev routes, and not the page\'s files', async (t) => {
  const dev = await startDevBroker(t)
  const doc = (await dev.call('GET', '/hermod/v3/api-docs')).json
  const routes = [
    ['get', '/hermod/dev/api/events'], ['get', '/hermod/dev/api/console'], ['get', '/hermod/dev/api/commands/{commandId}/timeline'],
    ['get', '/hermod/dev/api/commands/{commandId}/content'], ['post', '/hermod/dev/api/commands/{commandId}/cancel'], ['get', '/hermod/dev/api/qr'],
    ['post', '/hermod/dev/api/device/answer'], ['post', '/hermod/dev/api/callbacks/verify'], ['post', '/hermod/dev/api/callbacks/resend'],
    ['get', '/hermod/dev/api/dead-letters'], ['post', '/hermod/dev/api/dead-letters/{id}/replay'], ['get', '/hermod/dev/api/waiters'],
    ['get', '/hermod/dev/api/clients'], ['get', '/hermod/dev/api/clients/generate/{clientId}']
  ]
  for (const [method, path] of routes) {
    t.ok(doc.paths[path!]?.[method!]?.summary, `${method} ${path}`)
    t.same(doc.paths[path!][method!].tags, ['development'])
  }
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/hermod/console')), 'the page is not an API')
})

t.test('broker.dev.console: false leaves the dev API and drops the console, its feed and its routes', async (t) => {
  const dev = await startDevBroker(t, { broker: { dev: { console: false } } } as never)
  t.equal(dev.broker.context.dev?.feed, undefined)
  for (const url of ['/hermod/console/', '/hermod/dev/api/events', '/hermod/dev/api/qr?text=x']) t.equal((await dev.call('GET', url)).status, 404, url)
  t.equal((await dev.call('GET', '/hermod/dev/api/commands')).status, 200, 'the dev API stays')
  const accepted = await dev.post('ping', { commandHeader: {} })
  t.equal(await dev.answer(accepted, 'OK', { pong: true }), 200)
  t.equal((await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&timeout=20`)).status, 200)
})

t.test('an instance holds at most MAX_STREAMS event streams; past that 503, and a closed one frees its place', async (t) => {
  const { MAX_STREAMS } = await import('../../src/console/events-routes.js')
  const dev = await startDevBroker(t)
  const open: AbortController[] = []
  t.teardown(() => { for (const c of open) c.abort() })
  for (let i = 0; i < MAX_STREAMS; i++) {
    const controller = new AbortController()
    open.push(controller)
    const res = await fetch(`${dev.base}/hermod/dev/api/events`, { signal: controller.signal })
    t.equal(res.status, 200)
  }
  const refused = await dev.call('GET', '/hermod/dev/api/events')
  t.equal(refused.status, 503)
  t.equal(refused.json.code, 'HERMOD_TOO_MANY_STREAMS', JSON.stringify(refused.json))
  t.equal(refused.headers.get('retry-after'), '1', 'as every 503 of the broker')
  open.shift()!.abort()
  let status = 503
  for (let i = 0; i < 100 && status === 503; i++) {
    const controller = new AbortController()
    const res = await fetch(`${dev.base}/hermod/dev/api/events`, { signal: controller.signal })
    status = res.status
    if (status === 200) open.push(controller)
    else await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(status, 200, 'the closed stream\'s place is free again')
})
