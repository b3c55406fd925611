// The front process's own answers on real sockets (R29): a shed connection gets its 503 at once and is closed only after
// SHED_HOLD_MS (no reset, its pipelined rest dropped); liveness is answered while the broker process is alive.
import t from 'tap'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import pino from 'pino'
import { SHED_HOLD_MS, createFrontAnswers } from '../../src/server/front/front-answers.js'
import { makeTestPki } from '../callbacks/helpers.js'
import { testConfig } from '../helpers/config.js'

const pki = makeTestPki()

/** The front's answers behind a plain listening socket (as the front emits its accepted sockets into them). */
async function frontAnswers (alive: boolean, tls: boolean): Promise<{ port: number, tls: boolean, shed: () => number }> {
  let shed = 0
  const https = tls ? { key: pki.serverKeyPem, cert: pki.serverCertPem } : null
  const answers = createFrontAnswers(testConfig(), https, { alive: () => alive, closing: () => false, shed: () => { shed++ } }, pino({ level: 'silent' }))
  const listener = createServer({ pauseOnConnect: true }, (socket) => {
    answers.emit('connection', socket)
    socket.resume()
  })
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  t.teardown(() => {
    answers.closeAllConnections()
    listener.close()
  })
  return { port: (listener.address() as { port: number }).port, tls, shed: () => shed }
}

/**
 * Sends `requests` at once on a new connection, and `later` once the first answer is in; what came back, when the
 * first answer and the server's FIN arrived.
 */
async function exchange (front: { port: number, tls: boolean }, requests: string, later = ''): Promise<{ text: string, answeredAt: number, endedAt: number, error?: string }> {
  const socket: Socket = front.tls
    ? tlsConnect({ port: front.port, host: '127.0.0.1', rejectUnauthorized: false })
    : connect(front.port, '127.0.0.1')
  await once(socket, front.tls ? 'secureConnect' : 'connect')
  const started = performance.now()
  let text = ''
  let answeredAt = NaN
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
    if (Number.isNaN(answeredAt) && text.includes('\r\n\r\n')) {
      answeredAt = performance.now() - started
      if (later !== '') socket.write(later)
    }
  })
  socket.write(requests)
  return await new Promise((resolve) => {
    socket.once('end', () => { resolve({ text, answeredAt, endedAt: performance.now() - started }); socket.end() })
    socket.once('error', (err) => resolve({ text, answeredAt, endedAt: performance.now() - started, error: err.message }))
  })
}

const SIGN = (n: number): string => `POST /hermod/rest/command/sign HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx-n: ${n}\r\n\r\n{}`

for (const [name, tls] of [['plain HTTP', false], ['TLS', true]] as const) {
  t.test(`${name}: a shed connection: 503 HERMOD_OVERLOADED at once, Connection: close, its FIN only after the hold, no reset`, async (t) => {
    const front = await frontAnswers(true, tls)
    const got = await exchange(front, SIGN(1) + SIGN(2), SIGN(3) + SIGN(4))
    t.equal(got.error, undefined, 'closed with a FIN, not reset')
    t.match(got.text, /^HTTP\/1\.1 503 /)
    t.match(got.text, /\r\nretry-after: 1\r\n/i)
    t.match(got.text, /\r\nconnection: close\r\n/i)
    t.match(got.text, /"code":"HERMOD_OVERLOADED"/)
    const answers = got.text.match(/HTTP\/1\.1 \d{3}/g) ?? []
    t.ok(answers.every((a) => a.endsWith('503')), `every answer a 503 (${answers.length})`)
    // What arrived with the first request may be answered too (as Node's parser met it); over TLS the held socket is
    // not read, so the two sent after the answer never are. (Plain HTTP: Node's parser reads the socket itself.)
    if (tls) t.ok(answers.length <= 2, `over TLS what was sent after the answer is not answered (${answers.length} answers)`)
    t.ok(got.endedAt >= SHED_HOLD_MS, `the connection was held ${Math.round(got.endedAt)} ms (at least ${SHED_HOLD_MS}) before its close`)
    t.ok(got.answeredAt < got.endedAt, 'the answer came before the hold, not after it')
    t.equal(front.shed(), answers.length, 'each answer counted once')
  })

  t.test(`${name}: liveness: 200 UP while the broker process is alive`, async (t) => {
    const front = await frontAnswers(true, tls)
    const got = await exchange(front, 'GET /hermod/actuator/health/liveness HTTP/1.1\r\nhost: x\r\n\r\n')
    t.match(got.text, /^HTTP\/1\.1 200 /)
    t.match(got.text, /\{"status":"UP"\}$/)
    t.equal(front.shed(), 0, 'not counted as shed')
  })

  t.test(`${name}: liveness when the broker process stopped reporting: 503, as every other request`, async (t) => {
    const front = await frontAnswers(false, tls)
    const got = await exchange(front, 'GET /hermod/actuator/health/liveness HTTP/1.1\r\nhost: x\r\n\r\n')
    t.match(got.text, /^HTTP\/1\.1 503 /)
    t.match(got.text, /"code":"HERMOD_OVERLOADED"/)
  })
}
