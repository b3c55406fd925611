// Many waiting devices on real sockets: 500 long polls woken by their messages, and 500 that hang up, leave nothing behind.
import t, { type Test } from 'tap'
import { connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { KEYS, testConfig } from '../helpers/config.js'

const DEVICES = 500
const prime = apiKeyHeader('prime', KEYS.prime)

async function listening (t: Test): Promise<{ broker: Broker, port: number }> {
  const broker = await createBroker(testConfig())
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  return { broker, port: (broker.app.server.address() as AddressInfo).port }
}

/** An empty box per device: a command is accepted into it and answered. */
async function emptyBoxes (broker: Broker, count: number): Promise<Array<{ bid: string, token: string, to: string }>> {
  const boxes = []
  for (let i = 0; i < count; i++) {
    const to = `device-${i}`
    const res = await broker.app.inject({
      method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': prime, 'content-type': 'application/json' }, payload: { commandHeader: { to: [to] } }
    })
    const d = res.json().destinations[0]
    await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid as string}/${d.mid as string}`, payload: { status: 'OK' } })
    boxes.push({ bid: d.bid as string, token: new URL(d.uri as string).searchParams.get('token')!, to })
  }
  return boxes
}

/** A long poll on its own socket; `answer` resolves with the raw answer once its body is complete. */
function poll (port: number, bid: string, token: string): { socket: Socket, answer: Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  const answer = new Promise<string>((resolve) => {
    let text = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      const [head, body = ''] = text.split('\r\n\r\n', 2) as [string, string | undefined]
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? NaN)
      if (Buffer.byteLength(body) >= length) resolve(text)
    })
  })
  socket.write(`GET /hermod/rest/ms/${bid}?token=${token}&wait=60 HTTP/1.1\r\nHost: x\r\n\r\n`)
  return { socket, answer }
}

async function until (what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const connections = async (broker: Broker): Promise<number> => await new Promise((resolve, reject) => {
  broker.app.server.getConnections((err, count) => err === null ? resolve(count) : reject(err))
})

t.test(`${DEVICES} waiting devices are woken by their messages, then leave no watch or socket behind`, async (t) => {
  const { broker, port } = await listening(t)
  const { waiters } = broker.context
  const boxes = await emptyBoxes(broker, DEVICES)
  const polls = boxes.map((b) => poll(port, b.bid, b.token))
  await until('every poll waits', () => waiters.size === DEVICES)
  t.equal(waiters.boxes, DEVICES, 'one watched box per device')
  for (const b of boxes) {
    await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': prime, 'content-type': 'application/json' }, payload: { commandHeader: { to: [b.to] } } })
  }
  const answers = await Promise.all(polls.map(async (p) => await p.answer))
  t.equal(answers.filter((a) => a.startsWith('HTTP/1.1 200') && a.includes('"messages":[{')).length, DEVICES, 'every device got its message')
  t.equal(waiters.size, 0)
  t.equal(waiters.boxes, 0, 'no box watched any more')
  for (const p of polls) p.socket.destroy()
  await until('every socket closed', () => broker.context.inFlight.size === 0)
  let open = -1
  await until('the server holds no socket', () => { void connections(broker).then((n) => { open = n }); return open === 0 })
  t.equal(broker.context.inFlight.size, 0, 'nothing counted in flight')
})

t.test(`${DEVICES} waiting devices that hang up leave no watch, waiter or socket behind`, async (t) => {
  const { broker, port } = await listening(t)
  const { waiters } = broker.context
  const boxes = await emptyBoxes(broker, DEVICES)
  const polls = boxes.map((b) => poll(port, b.bid, b.token))
  await until('every poll waits', () => waiters.size === DEVICES)
  for (const p of polls) p.socket.destroy()
  await until('no poll waits', () => waiters.size === 0)
  await until('no box watched', () => waiters.boxes === 0)
  let open = -1
  await until('the server holds no socket', () => { void connections(broker).then((n) => { open = n }); return open === 0 })
  await until('nothing in flight', () => broker.context.inFlight.size === 0)
  const metrics = await broker.app.inject({ url: '/hermod/actuator/prometheus' })
  t.match(metrics.body, /hermod_long_polls_waiting 0\n/)
  t.match(metrics.body, /hermod_long_poll_boxes_watched 0\n/)
  t.match(metrics.body, /hermod_connections_open 0\n/)
})
