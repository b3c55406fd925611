// Load shedding on requests in flight and queue time (R29): 503 HERMOD_OVERLOADED + Retry-After, counted, health answered.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { request } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { InFlightGauge } from '../../src/server/load-shedding.js'
import { KEYS, testConfig } from '../helpers/config.js'

/** Holds the broker's message reads in the store until `release()`; `reads()` counts those that arrived. */
function holdReads (broker: Broker): { release: () => void, reads: () => number } {
  const store = broker.context.store
  const realRead = store.readMessage.bind(store)
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let reads = 0
  store.readMessage = async (...args) => { reads++; await gate; return await realRead(...args) }
  return { release, reads: () => reads }
}

t.test('InFlightGauge: refuses past max-in-flight; a standing queue time admits an eighth; a quiet second forgets it', async (t) => {
  let now = 0
  const gauge = new InFlightGauge({ maxInFlight: 16, maxQueueMs: 100 }, () => now)
  const started: number[] = []
  for (let i = 0; i < 16; i++) started.push(gauge.admit() as number)
  t.equal(gauge.admit(), 'in-flight', 'the 17th is refused')
  t.equal(gauge.size, 16)
  // Every answer in this window took 500 ms: even the quickest one, so there is a standing queue.
  now = 500
  for (let i = 0; i < 15; i++) gauge.leave(started.pop())
  now = 650
  t.ok(gauge.queued, 'queue time over max-queue-ms')
  t.equal(gauge.size, 1)
  t.type(gauge.admit(), 'number', 'below an eighth of max-in-flight: admitted')
  t.equal(gauge.admit(), 'queue-time', 'at an eighth (2): refused while the queue stands')
  // A quick answer in the next window ends it.
  gauge.leave(now - 5)
  now = 800
  t.notOk(gauge.queued, 'the quickest answer of the last window was quick')
  t.type(gauge.admit(), 'number')
  t.equal(gauge.size, 2)
  const off = new InFlightGauge({ maxInFlight: 0, maxQueueMs: 0 }, () => now)
  // Every answer slow again, then a second without any answer: the reading is forgotten.
  const slowStart = gauge.admit() as number
  now = 2000
  gauge.leave(slowStart)
  now = 2150
  t.ok(gauge.queued, 'slow again')
  // Requests keep arriving (and are refused or wait) while none is answered: still forgotten after a second.
  for (now = 2200; now < 3300; now += 50) void gauge.queued
  t.notOk(gauge.queued, 'a second without answers forgets the queue time')
  let admitted = 0
  for (let i = 0; i < 10_000; i++) if (typeof off.admit() === 'number') admitted++
  t.equal(admitted, 10_000, '0 turns both limits off')
})

t.test('max-in-flight: the request past it gets 503 HERMOD_OVERLOADED with Retry-After; health, metrics and waiting polls are not counted', async (t) => {
  const broker = await createBroker(testConfig({ broker: { overload: { maxInFlight: 2 } } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(broker.app.server.address() as AddressInfo).port}`
  const headers = { 'x-api-key': apiKeyHeader('prime', KEYS.prime), 'content-type': 'application/json' }
  const accept = async (to: string): Promise<{ bid: string, mid: string, token: string }> => {
    const res = await request(`${origin}/hermod/rest/command/sign`, { method: 'POST', headers, body: JSON.stringify({ commandHeader: { to: [to] } }) })
    const d = (await res.body.json() as { destinations: Array<{ bid: string, mid: string, uri: string }> }).destinations[0]!
    return { bid: d.bid, mid: d.mid, token: new URL(d.uri).searchParams.get('token')! }
  }
  const held = await accept('held')
  const quiet = await accept('quiet')
  await request(`${origin}/hermod/rest/ms/${quiet.bid}/${quiet.mid}`, { method: 'POST', headers, body: '{"status":"OK"}' }).then(async (r) => await r.body.text())

  // A long poll waiting on its empty box holds no place.
  const polling = request(`${origin}/hermod/rest/ms/${quiet.bid}?token=${quiet.token}&wait=60`)
  // Message reads that the store holds until released: two in flight fill max-in-flight.
  const { release, reads } = holdReads(broker)
  const slow = [0, 1].map(async () => await request(`${origin}/hermod/rest/ms/${held.bid}/${held.mid}`))
  while (reads() < 2) await new Promise((resolve) => setTimeout(resolve, 10))

  const shed = await request(`${origin}/hermod/rest/command/ping`, { method: 'POST', headers, body: '{}' })
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '1')
  t.same(await shed.body.json(), { statusCode: 503, code: 'HERMOD_OVERLOADED', error: 'Service Unavailable', message: 'The broker is overloaded; try again shortly' })
  for (const path of ['/hermod/actuator/health/liveness', '/hermod/actuator/health/readiness', '/hermod/actuator/health']) {
    const res = await request(`${origin}${path}`)
    t.equal(res.statusCode, 200, `${path} answers while the broker sheds`)
    await res.body.text()
  }
  const metrics = await (await request(`${origin}/hermod/actuator/prometheus`)).body.text()
  t.match(metrics, /hermod_requests_shed_total\{reason="in-flight"\} 1\n/, 'the shed request is counted')
  t.match(metrics, /hermod_requests_in_flight 2\n/)

  release()
  for (const res of await Promise.all(slow)) {
    t.equal(res.statusCode, 200)
    await res.body.text()
  }
  const after = await request(`${origin}/hermod/rest/command/ping`, { method: 'POST', headers, body: '{}' })
  t.equal(after.statusCode, 200, 'full service once the in-flight requests are answered')
  await after.body.text()
  await accept('quiet')
  const woken = await polling
  t.equal(woken.statusCode, 200, 'the waiting poll was answered when its message arrived')
  t.equal((await woken.body.json() as { messages: unknown[] }).messages.length, 1)
  const finalMetrics = await (await request(`${origin}/hermod/actuator/prometheus`)).body.text()
  t.match(finalMetrics, /hermod_requests_in_flight 0\n/, 'nothing left counted')
})

t.test('a pipelined request whose socket closes before its turn is not left counted in flight', async (t) => {
  const broker = await createBroker(testConfig({ broker: { overload: { maxInFlight: 100 } } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port
  const post = await broker.app.inject({
    method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime), 'content-type': 'application/json' }, payload: {}
  })
  const d = post.json().destinations[0]
  const { release, reads } = holdReads(broker)
  // Three reads pipelined on one socket: the first waits in the store, the others wait for their turn.
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(`GET /hermod/rest/ms/${d.bid as string}/${d.mid as string} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(3))
  while (reads() < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(broker.context.inFlight.size, 3)
  socket.destroy()
  release()
  const deadline = Date.now() + 10_000
  while (broker.context.inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(broker.context.inFlight.size, 0, 'every request counted out once its socket closed')
})

t.test('max-in-flight-per-connection: a client pipelining past it gets 503 on its own connection; other clients and the instance budget are untouched', async (t) => {
  const broker = await createBroker(testConfig({ broker: { overload: { maxInFlight: 100, maxInFlightPerConnection: 4 } } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  let answers = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { answers += chunk })
  // Ten requests in one write: Node hands all ten to the server before the first is answered.
  socket.write('GET /hermod/v3/api-docs HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(10))
  const other = await request(`http://127.0.0.1:${port}/hermod/v3/api-docs`)
  t.equal(other.statusCode, 200, 'another connection meanwhile: served')
  await other.body.dump()
  const deadline = Date.now() + 10_000
  while ((answers.match(/HTTP\/1\.1 \d{3}/g) ?? []).length < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  socket.destroy()
  const statuses = (answers.match(/HTTP\/1\.1 (\d{3})/g) ?? []).map((line) => Number(line.slice(9)))
  t.same(statuses, [200, 200, 200, 200, 503, 503, 503, 503, 503, 503], 'four admitted, the six past the cap shed, in order')
  t.match(answers, /HERMOD_OVERLOADED/)
  const metrics = await broker.app.inject({ method: 'GET', url: '/hermod/actuator/prometheus' })
  t.match(metrics.body, /hermod_requests_shed_total\{reason="connection"\} 6/, 'counted under its own reason')
  t.equal(broker.context.metrics.shedCount, 0, 'not overload: a front would keep handing connections over')
})
