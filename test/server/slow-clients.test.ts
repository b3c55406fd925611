// Slow and greedy clients on real sockets (R26): dripped headers and bodies, unread answers, silent TLS, too many sockets.
import t, { type Test } from 'tap'
import { connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { request } from 'undici'
import type { BrokerConfig } from '../../src/config/types.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { loadTlsMaterial } from '../../src/server/tls.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { KEYS, testConfig } from '../helpers/config.js'

/** Small bounds so that the tests are quick; each cut must come before GENEROUS_MS (no timing beyond that). */
const TIMEOUTS = { headers: 1000, request: 1500, idle: 1000, keepAlive: 500, checkingInterval: 100, tlsHandshake: 1000 }
const GENEROUS_MS = 10_000

async function listening (t: Test, config: BrokerConfig, https?: object): Promise<{ broker: Broker, port: number }> {
  const broker = await createBroker(config, https === undefined ? {} : { server: { https } })
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  return { broker, port: (broker.app.server.address() as AddressInfo).port }
}

const config = (patch: Parameters<typeof testConfig>[0] = {}): BrokerConfig =>
  testConfig({ ...patch, server: { timeouts: TIMEOUTS, ...patch.server } })

async function open (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Resolves true when `socket` closes before `ms`, calling `tick` every 200 ms meanwhile (drip a byte, ...). */
async function closesWithin (socket: Socket, ms: number, tick: () => void = () => {}): Promise<boolean> {
  if (socket.destroyed) return true
  return await new Promise((resolve) => {
    const timer = setInterval(() => { if (!socket.destroyed && socket.writable) tick() }, 200)
    const bound = setTimeout(() => { clearInterval(timer); socket.destroy(); resolve(false) }, ms)
    socket.on('error', () => {})
    socket.once('close', () => { clearInterval(timer); clearTimeout(bound); resolve(true) })
  })
}

t.test('headers dripped a byte at a time are cut after server.headers-timeout-ms (408)', async (t) => {
  const { port } = await listening(t, config())
  const socket = await open(port)
  let answer = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk })
  socket.write('GET /hermod/actuator/health/liveness HTTP/1.1\r\nHost: x\r\n')
  t.ok(await closesWithin(socket, GENEROUS_MS, () => socket.write('x-drip: 1\r\n')), 'the socket was closed')
  t.match(answer, /^HTTP\/1\.1 408 .*HERMOD_REQUEST_TIMEOUT/s)
})

t.test('a body dripped a byte at a time is cut after server.request-timeout-ms (408)', async (t) => {
  const { port } = await listening(t, config())
  const socket = await open(port)
  let answer = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk })
  socket.write(`POST /hermod/rest/command/ping HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${apiKeyHeader('prime', KEYS.prime)}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"a":"`)
  t.ok(await closesWithin(socket, GENEROUS_MS, () => socket.write('b')), 'the socket was closed')
  t.match(answer, /^HTTP\/1\.1 408 .*HERMOD_REQUEST_TIMEOUT/s)
})

/** Long bounds for every timeout but the one a test is about (none of them may cut its client first). */
const LONG = { headers: 60_000, request: 60_000, idle: 60_000, keepAlive: 60_000, checkingInterval: 100, tlsHandshake: 60_000 }

/**
 * A socket (TLS with `tls`) that pipelines `count` requests for the OpenAPI document (~90 KB each) and never reads;
 * true once the server holds no socket, within GENEROUS_MS.
 */
async function neverReads (t: Test, timeouts: typeof LONG, count: number, tls = false): Promise<boolean> {
  const material = tls ? await loadTlsMaterial({ enabled: true, clientAuth: 'none' }) : null
  const { broker, port } = await listening(t, testConfig({ server: { timeouts } }), material?.options)
  const socket = material === null
    ? await open(port)
    : await new Promise<TLSSocket>((resolve) => { const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s)) })
  socket.on('error', () => {})
  socket.pause()
  socket.write('GET /hermod/v3/api-docs HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count))
  const connections = async (): Promise<number> => await new Promise((resolve, reject) => {
    broker.app.server.getConnections((err, n) => err === null ? resolve(n) : reject(err))
  })
  const started = Date.now()
  while (await connections() > 0 && Date.now() - started < GENEROUS_MS) await new Promise((resolve) => setTimeout(resolve, 100))
  const cut = await connections() === 0
  socket.destroy()
  return cut
}

t.test('a TLS client that pipelines more than the server parses before it stops reading (2,000 at once) is cut at once, whatever the timeouts', async (t) => {
  t.ok(await neverReads(t, LONG, 2000, true), 'closed with every timeout at 60 s: the decrypted rest reached the paused parser (HPE_PAUSED)')
})

t.test('a client that never reads answers the socket buffers hold (10) is cut after server.keep-alive-timeout-ms', async (t) => {
  t.ok(await neverReads(t, { ...LONG, keepAlive: 1000 }, 10), 'every answer went to the kernel: the socket counts as kept alive')
  t.ok(await neverReads(t, { ...LONG, keepAlive: 1000 }, 10, true), 'over TLS too')
})

t.test('a client that never reads answers the socket buffers cannot hold is cut after server.idle-timeout-ms', async (t) => {
  t.ok(await neverReads(t, { ...LONG, idle: 1000 }, 200), '200 answers (~18 MB): some left to write, no traffic for the idle timeout')
  t.ok(await neverReads(t, { ...LONG, idle: 1000 }, 2000), '2,000 over plain HTTP: the same (Node stops reading before the rest arrives)')
})

t.test('a TLS socket that never starts its handshake is closed after server.tls-handshake-timeout-ms', async (t) => {
  const tls = await loadTlsMaterial({ enabled: true, clientAuth: 'none' })
  const { port } = await listening(t, config(), tls!.options)
  const socket = await open(port)
  t.ok(await closesWithin(socket, GENEROUS_MS), 'the socket was closed')
})

/** One request on `socket` (kept alive), resolving with the raw answer's status line and body. */
async function exchange (socket: Socket, path: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    let answer = ''
    const onData = (chunk: Buffer): void => {
      answer += chunk.toString('utf8')
      const [head, body = ''] = answer.split('\r\n\r\n', 2) as [string, string | undefined]
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? NaN)
      if (Buffer.byteLength(body) >= length) {
        socket.off('data', onData)
        resolve({ status: Number(head.split(' ')[1]), body: `${head}\r\n\r\n${body}` })
      }
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
  })
}

t.test('server.max-connections-per-address: the N+1st socket gets 503 HERMOD_TOO_MANY_CONNECTIONS, the others are served', async (t) => {
  const { broker, port } = await listening(t, config({ server: { connections: { max: 0, perAddress: 3 } } }))
  const liveness = '/hermod/actuator/health/liveness'
  const kept = [await open(port), await open(port), await open(port)]
  t.teardown(() => { for (const socket of kept) socket.destroy() })
  for (const socket of kept) t.equal((await exchange(socket, liveness)).status, 200)
  const extra = await open(port)
  const refused = await exchange(extra, liveness)
  t.equal(refused.status, 503)
  t.match(refused.body, /retry-after: 1/i)
  t.match(refused.body, /connection: close/i)
  t.match(refused.body, /"code":"HERMOD_TOO_MANY_CONNECTIONS"/)
  t.ok(await closesWithin(extra, GENEROUS_MS), 'the refused socket is closed after its answer')
  t.equal((await exchange(kept[0]!, liveness)).status, 200, 'the counted sockets are still served')
  const metrics = await broker.app.inject({ url: '/hermod/actuator/prometheus' })
  t.match(metrics.body, /hermod_connections_refused_total\{scope="address"\} 1/)
  t.match(metrics.body, /hermod_connections_open 3/)
  // Idle kept-alive sockets do not hold their place forever: server.keep-alive-timeout-ms closes them.
  for (const socket of kept) t.ok(await closesWithin(socket, GENEROUS_MS), 'an idle kept-alive socket is closed')
  const later = await open(port)
  t.teardown(() => later.destroy())
  t.equal((await exchange(later, liveness)).status, 200, 'room again once they closed')
})

t.test('a long poll outlives every timeout: it is answered at the end of its wait', async (t) => {
  const { broker, port } = await listening(t, config())
  const post = await broker.app.inject({
    method: 'POST',
    url: '/hermod/rest/command/sign',
    headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime), 'content-type': 'application/json' },
    payload: { commandHeader: { to: ['long-poller'] } }
  })
  const d = post.json().destinations[0]
  const token = new URL(d.uri as string).searchParams.get('token') ?? ''
  await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid as string}/${d.mid as string}`, payload: { status: 'OK' } })
  // A wait of 3 s: three times the idle and headers timeouts, twice the request timeout.
  const started = Date.now()
  const res = await request(`http://127.0.0.1:${port}/hermod/rest/ms/${d.bid as string}?token=${token}&wait=3`)
  t.equal(res.statusCode, 200)
  t.same((await res.body.json() as { messages: unknown[] }).messages, [])
  t.ok(Date.now() - started >= 2900, 'held for its whole wait')
})

t.test('server.max-connections over TLS: the socket past it is closed before its handshake, the others are served', async (t) => {
  const tls = await loadTlsMaterial({ enabled: true, clientAuth: 'none' })
  const { broker, port } = await listening(t, config({ server: { connections: { max: 1, perAddress: 0 } } }), tls!.options)
  const secure = async (): Promise<{ socket: TLSSocket, handshake: boolean }> => await new Promise((resolve) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve({ socket, handshake: true }))
    socket.on('error', () => {})
    socket.once('close', () => resolve({ socket, handshake: false }))
  })
  const first = await secure()
  t.teardown(() => first.socket.destroy())
  t.ok(first.handshake, 'the first socket completes its handshake')
  const second = await secure()
  t.notOk(second.handshake, 'the second is closed without a handshake')
  const live = await exchange(first.socket as unknown as Socket, '/hermod/actuator/health/liveness')
  t.equal(live.status, 200, 'the counted socket is served')
  const metrics = await broker.app.inject({ url: '/hermod/actuator/prometheus' })
  t.match(metrics.body, /hermod_connections_refused_total\{scope="instance"\} 1/)
})
