// One attempt against real receivers: wire format, send-time config, classification, timeouts (R15), redirects (R14), skips.
import { once } from 'node:events'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { CallbackDeliverer } from '../../src/callbacks/deliverer.js'
import { captureLogger, makeClient, makeConfig, makeEvent, registryOf, startReceiver, type WithTeardown } from './helpers.js'

const SECRET = `whsec_${randomBytes(24).toString('base64')}`

function deliverer (
  t: WithTeardown, clients = registryOf(), config = makeConfig()
): { deliverer: CallbackDeliverer, log: ReturnType<typeof captureLogger> } {
  const log = captureLogger()
  const d = new CallbackDeliverer({ clients, config, logger: log.logger })
  t.teardown(async () => await d.close())
  return { deliverer: d, log }
}

t.test('delivers a signed, authenticated POST to {callbackUrl}/callback/{type}', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(204).end() })
  t.teardown(receiver.close)
  const client = makeClient({ callbackUrl: `${receiver.url}/prime_explorer/ws/hermod/`, callbackBasicAuth: 'hermod:s3cret', callbackSecret: SECRET })
  const { deliverer: d, log } = deliverer(t, registryOf(client))
  const event = makeEvent({ type: 'provision' })
  t.same(await d.attempt(event), { kind: 'delivered', status: 204 })
  t.equal(receiver.requests.length, 1)
  const req = receiver.requests[0]!
  t.equal(req.method, 'POST')
  t.equal(req.url, '/prime_explorer/ws/hermod/callback/provision')
  t.equal(req.headers['content-type'], 'application/json')
  t.match(req.headers['user-agent'], /^hermod-broker\//)
  t.equal(req.headers.authorization, `Basic ${Buffer.from('hermod:s3cret').toString('base64')}`)
  t.equal(req.headers['webhook-id'], event.id)
  t.same(new Webhook(SECRET).verify(req.body, req.headers as Record<string, string>), JSON.parse(req.body), 'R16 on the wire')
  t.equal(JSON.parse(req.body).commandType, 'PROVISION')
  t.ok(log.lines.some(l => l.msg === 'callback delivered' && l.status === 204 && l.eventId === event.id && l.attempt === 1))
})

t.test('exact mode posts to callbackUrl itself', async t => {
  const receiver = await startReceiver((_req, res) => { res.end('ok') })
  t.teardown(receiver.close)
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: `${receiver.url}/in/exact?k=1`, callbackMode: 'exact' })))
  t.same(await d.attempt(makeEvent()), { kind: 'delivered', status: 200 })
  t.equal(receiver.requests[0]?.url, '/in/exact?k=1')
})

t.test('userinfo in the callback URL becomes Basic auth', async t => {
  const receiver = await startReceiver((_req, res) => { res.end() })
  t.teardown(receiver.close)
  const callbackUrl = receiver.url.replace('http://', 'http://hook:pa%24%24@') + '/base'
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl })))
  t.same(await d.attempt(makeEvent()), { kind: 'delivered', status: 200 })
  t.equal(receiver.requests[0]?.headers.authorization, `Basic ${Buffer.from('hook:pa$$').toString('base64')}`)
  t.equal(receiver.requests[0]?.url, '/base/callback/sign')
})

t.test('URL and credentials are read from the registry at send time', async t => {
  const first = await startReceiver((_req, res) => { res.writeHead(503).end() })
  const second = await startReceiver((_req, res) => { res.end() })
  t.teardown(first.close)
  t.teardown(second.close)
  const clients = registryOf(makeClient({ callbackUrl: first.url, callbackBasicAuth: 'old:pw' }))
  const { deliverer: d } = deliverer(t, clients)
  const event = makeEvent()
  t.same(await d.attempt(event, 1), { kind: 'retry', reason: 'HTTP 503', status: 503 })
  clients.replace([makeClient({ callbackUrl: second.url, callbackBasicAuth: 'new:pw' })])
  t.same(await d.attempt(event, 2), { kind: 'delivered', status: 200 })
  t.equal(first.requests.length, 1)
  t.equal(second.requests[0]?.headers.authorization, `Basic ${Buffer.from('new:pw').toString('base64')}`)
  t.equal(second.requests[0]?.headers['webhook-id'], first.requests[0]?.headers['webhook-id'])
})

t.test('unknown client or no callback URL: skipped, logged once per client and reason', async t => {
  const clients = registryOf(makeClient({ clientId: 'quiet' }))
  const { deliverer: d, log } = deliverer(t, clients)
  t.same(await d.attempt(makeEvent({ clientId: 'gone' })), { kind: 'skipped', reason: 'unknown client' })
  t.same(await d.attempt(makeEvent({ clientId: 'gone' })), { kind: 'skipped', reason: 'unknown client' })
  t.same(await d.attempt(makeEvent({ clientId: 'quiet' })), { kind: 'skipped', reason: 'client has no callback URL' })
  t.same(await d.attempt(makeEvent({ clientId: 'quiet' })), { kind: 'skipped', reason: 'client has no callback URL' })
  const skips = log.lines.filter(l => typeof l.msg === 'string' && l.msg.startsWith('callback skipped'))
  t.same(skips.map(l => [l.level, l.clientId, l.reason]), [[30, 'gone', 'unknown client'], [30, 'quiet', 'client has no callback URL']])
})

t.test('status classification on the wire: 410 and 400 give up, 500/408/429 retry, Retry-After read and capped', async t => {
  const answers: Array<[number, Record<string, string>]> = [[410, {}], [400, {}], [500, {}], [408, {}], [429, { 'retry-after': '1' }], [503, { 'retry-after': '86400' }]]
  const receiver = await startReceiver((_req, res, i) => { const [status, headers] = answers[i]!; res.writeHead(status, headers).end('{"error":"x"}') })
  t.teardown(receiver.close)
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig({ retryAfterMaxMs: 30_000 }))
  const results = []
  for (let i = 0; i < answers.length; i++) results.push(await d.attempt(makeEvent(), i + 1))
  t.same(results, [
    { kind: 'give-up', reason: 'HTTP 410', status: 410 },
    { kind: 'give-up', reason: 'HTTP 400', status: 400 },
    { kind: 'retry', reason: 'HTTP 500', status: 500 },
    { kind: 'retry', reason: 'HTTP 408', status: 408 },
    { kind: 'retry', reason: 'HTTP 429', status: 429, retryAfterMs: 1_000 },
    { kind: 'retry', reason: 'HTTP 503', status: 503, retryAfterMs: 30_000 }
  ])
})

t.test('R14: a 302 is a failure and its Location is never requested', async t => {
  const target = await startReceiver((_req, res) => { res.end() })
  const redirector = await startReceiver((_req, res) => { res.writeHead(302, { location: `${target.url}/elsewhere` }).end() })
  t.teardown(target.close)
  t.teardown(redirector.close)
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: redirector.url })))
  t.same(await d.attempt(makeEvent()), { kind: 'give-up', reason: 'HTTP 302 (redirects are not followed)', status: 302 })
  t.equal(redirector.requests.length, 1)
  t.equal(target.requests.length, 0, 'the redirect target was never hit')
})

/** A raw TCP server that reads the request and then answers one byte every `everyMs` (or `prefix` at once first). */
async function dripServer (t: WithTeardown, prefix: string, drip: string, everyMs: number): Promise<string> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write(prefix)
      let i = 0
      const timer = setInterval(() => { socket.write(drip[i++ % drip.length] ?? ' ') }, everyMs)
      socket.on('close', () => { clearInterval(timer); sockets.delete(socket) })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('R15: a hanging target or one that drips its headers times out after ~timeoutMs', async t => {
  const hang = await startReceiver(() => {})
  t.teardown(hang.close)
  const dripHeaders = await dripServer(t, '', 'HTTP/1.1 200 OK\r\nX-Slow: 1\r\n', 20)
  for (const [name, url] of [['hang', hang.url], ['drip headers', dripHeaders]] as const) {
    const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: url })), makeConfig({ timeoutMs: 300 }))
    const started = Date.now()
    const outcome = await d.attempt(makeEvent())
    const elapsed = Date.now() - started
    t.same(outcome, { kind: 'retry', reason: 'timeout after 300 ms' }, name)
    t.ok(elapsed >= 290, `${name}: not before the budget (${elapsed} ms)`)
    t.ok(elapsed < 5_000, `${name}: bounded (${elapsed} ms)`)
  }
})

t.test('a status received in time is the outcome: a body dripped past the timeout or too large is cut, never a timeout', async t => {
  const cases = [
    ['200, body dripped', await dripServer(t, 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n', 'x', 20), { kind: 'delivered', status: 200 }],
    ['200, chunked body that never ends', await dripServer(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '1\r\nx\r\n', 20), { kind: 'delivered', status: 200 }],
    ['503, body dripped', await dripServer(t, 'HTTP/1.1 503 Busy\r\nContent-Length: 100000\r\n\r\n', 'x', 20), { kind: 'retry', reason: 'HTTP 503', status: 503 }]
  ] as const
  for (const [name, url, expected] of cases) {
    const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: url })), makeConfig({ timeoutMs: 1_500 }))
    const started = Date.now()
    t.same(await d.attempt(makeEvent()), expected, name)
    t.ok(Date.now() - started < 5_000, `${name}: the body read is bounded (${Date.now() - started} ms)`)
  }
  const big = await startReceiver((_req, res) => { res.writeHead(200).end(Buffer.alloc(4 * 1024 * 1024, 'x')) })
  t.teardown(big.close)
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: big.url })), makeConfig({ timeoutMs: 1_500 }))
  t.same(await d.attempt(makeEvent()), { kind: 'delivered', status: 200 }, 'a 4 MiB body is not read to its end')
})

t.test('connection refused is retried with the error code as the reason', async t => {
  const closed = await startReceiver(() => {})
  await closed.close()
  const { deliverer: d } = deliverer(t, registryOf(makeClient({ callbackUrl: closed.url })))
  const outcome = await d.attempt(makeEvent())
  t.equal(outcome.kind, 'retry')
  t.match((outcome as { reason: string }).reason, /ECONNREFUSED/)
})

t.test('an unusable callback URL gives up at once', async t => {
  const { deliverer: d, log } = deliverer(t, registryOf(makeClient({ callbackUrl: 'ftp://files.example/x' })))
  t.same(await d.attempt(makeEvent()), { kind: 'give-up', reason: 'callback URL of client prime1 is not http(s)' })
  t.ok(log.lines.some(l => l.level === 40 && l.url === '(invalid)'))
})
