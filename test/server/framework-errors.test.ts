// What the router and Node's HTTP parser refuse (bad escapes, long segments, bad or slow requests) answers a HERMOD_* body.
import t from 'tap'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'

/** Writes `request` on a fresh connection and resolves with everything the server sent until it closed. */
async function rawExchange (port: number, request: string, pauseAfterWrite = false): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.once('error', reject)
    socket.once('close', () => resolve(answer))
    socket.once('connect', () => { socket.write(request); if (!pauseAfterWrite) socket.end() })
    socket.setTimeout(20_000, () => { socket.destroy(); reject(new Error(`no answer within 20 s (got ${answer.slice(0, 200)})`)) })
  })
}

function parseRaw (answer: string): { status: number, body: any } {
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string | undefined]
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body ?? 'null') }
}

t.test('a malformed escape and a path segment over 100 characters get HERMOD bodies without the URL', async (t) => {
  const broker = await createBroker(testConfig())
  t.teardown(() => broker.close())
  const long = 'a'.repeat(101)
  for (const [url, status, code] of [
    ['/hermod/rest/command/%', 400, 'HERMOD_INVALID_REQUEST'],
    ['/hermod/rest/ms/%zz/secret-mid-0001', 400, 'HERMOD_INVALID_REQUEST'],
    [`/hermod/rest/ms/${long}`, 414, 'HERMOD_URI_TOO_LONG'],
    [`/hermod/rest/command/${long}`, 414, 'HERMOD_URI_TOO_LONG']
  ] as const) {
    const res = await broker.app.inject({ url })
    t.equal(res.statusCode, status, url.slice(0, 40))
    t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
    t.equal(res.json().code, code)
    t.notOk(res.body.includes('/hermod/rest') || res.body.includes(long) || res.body.includes('secret-mid'), 'the URL is not echoed')
    t.match(res.headers['content-type'], /application\/json/)
  }
})

t.test('requests Node\'s parser refuses are HERMOD bodies: 400 malformed, 431 headers too large, 408 too slow', async (t) => {
  // A short request timeout, checked often (server.connections-checking-interval-ms), so that the 408 comes quickly.
  const broker = await createBroker(testConfig({ server: { timeouts: { headers: 500, request: 500, checkingInterval: 50 } } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port

  const malformed = parseRaw(await rawExchange(port, 'GET /hermod/rest/command/1 HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n'))
  t.equal(malformed.status, 400)
  t.same(malformed.body, { statusCode: 400, code: 'HERMOD_INVALID_REQUEST', error: 'Bad Request', message: 'The request is malformed' })

  const big = parseRaw(await rawExchange(port, `GET /hermod/rest/command/1 HTTP/1.1\r\nHost: x\r\nx-filler: ${'f'.repeat(20_000)}\r\n\r\n`))
  t.equal(big.status, 431)
  t.equal(big.body.code, 'HERMOD_HEADERS_TOO_LARGE')

  const slow = parseRaw(await rawExchange(port, 'GET /hermod/rest/command/1 HTTP/1.1\r\nHost: x\r\n', true))
  t.equal(slow.status, 408)
  t.equal(slow.body.code, 'HERMOD_REQUEST_TIMEOUT')
})

t.test('what Node\'s HTTP server would answer itself is a HERMOD body too: no Host, Expect, CONNECT, a body cut short after an early answer', async (t) => {
  const broker = await createBroker(testConfig())
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port

  const noHost = parseRaw(await rawExchange(port, 'GET /hermod/actuator/health HTTP/1.1\r\n\r\n'))
  t.equal(noHost.status, 400, 'RFC 9112: HTTP/1.1 without Host is a 400')
  t.match(noHost.body, { statusCode: 400, code: 'HERMOD_INVALID_REQUEST', message: /Host/ })
  const http10 = parseRaw(await rawExchange(port, 'GET /hermod/actuator/health/liveness HTTP/1.0\r\n\r\n'))
  t.equal(http10.status, 200, 'HTTP/1.0 needs no Host')

  const expect = parseRaw(await rawExchange(port, 'GET /hermod/actuator/health HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n'))
  t.equal(expect.status, 417)
  t.same(expect.body, { statusCode: 417, code: 'HERMOD_EXPECTATION_FAILED', error: 'Expectation Failed', message: 'Only Expect: 100-continue is supported' })

  const tunnel = parseRaw(await rawExchange(port, 'CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n'))
  t.equal(tunnel.status, 404, 'CONNECT is answered, not dropped without a word')
  t.equal(tunnel.body.code, 'HERMOD_NOT_FOUND')
  t.notOk(JSON.stringify(tunnel.body).includes('internal.example'), 'the target is not echoed')

  // The API key is refused at once (401), before the body; then the body turns out malformed (a bad chunk, or cut short).
  for (const rest of ['Transfer-Encoding: chunked\r\n\r\nzz\r\n', 'Content-Length: 10\r\n\r\n{}']) {
    const answer = await rawExchange(port, `POST /hermod/rest/command/ping HTTP/1.1\r\nHost: x\r\nX-Api-Key: bm9wZTpub3Bl\r\nContent-Type: application/json\r\n${rest}`)
    t.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, `one answer for one request (${rest.split(':')[0]})`)
    t.equal(parseRaw(answer).status, 401)
  }
})

t.test('a missing Host is a HERMOD 400 also when the server has timeouts of its own (found by the raw-request fuzzer)', async (t) => {
  // Shrunk: GET /hermod/rest/command/x HTTP/1.1 without Host, on a broker built with its own server options: Node's empty 400.
  const broker = await createBroker(testConfig({ server: { timeouts: { keepAlive: 72_000, checkingInterval: 50 } } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (broker.app.server.address() as AddressInfo).port
  const noHost = parseRaw(await rawExchange(port, 'GET /hermod/rest/command/x HTTP/1.1\r\n\r\n'))
  t.equal(noHost.status, 400)
  t.equal(noHost.body?.code, 'HERMOD_INVALID_REQUEST')
})
