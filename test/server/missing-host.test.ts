// Regression: an HTTP/1.1 request without Host got Node's own empty 400 (no body); it gets a HERMOD_* 400 now (RFC 9112 section 3.2).
import { connect, type AddressInfo } from 'node:net'
import t from 'tap'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'

async function rawExchange (port: number, request: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(request))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.once('error', reject)
    socket.once('close', () => resolve(answer))
    socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error('no answer within 10 s')) })
  })
}

t.test('HTTP/1.1 without Host: 400 HERMOD_INVALID_REQUEST with the error body, the connection closed', async (t) => {
  const broker = await createBroker(testConfig())
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port
  for (const path of ['/hermod/rest/command/1', '/hermod/actuator/health/liveness', '/no-such-route']) {
    const answer = await rawExchange(port, `GET ${path} HTTP/1.1\r\nX-Api-Key: x\r\n\r\n`)
    t.match(answer, /^HTTP\/1\.1 400 /, path)
    t.match(answer, /\r\nconnection: close\r\n/i)
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
    t.same(body, { statusCode: 400, code: 'HERMOD_INVALID_REQUEST', error: 'Bad Request', message: 'Invalid request: an HTTP/1.1 request needs a Host header' })
  }
  // HTTP/1.0 needs none; with Host, nothing changes.
  t.match(await rawExchange(port, 'GET /hermod/actuator/health/liveness HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /)
  t.match(await rawExchange(port, 'GET /hermod/actuator/health/liveness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /)
})
