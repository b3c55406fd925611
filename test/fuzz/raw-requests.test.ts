// Generated raw HTTP/1.x requests (bad request lines, control bytes, huge or duplicate headers, broken bodies) on a socket:
// every answer is a HERMOD_* JSON body, never a 5xx or silence, and the parser's refusals never echo the path.
import t from 'tap'
import fc from 'fast-check'
import { connect, type AddressInfo } from 'node:net'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'

/** Generated requests; each opens a connection, writes, half-closes and reads until the broker closes. */
const RAW_REQUESTS = 300
const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 30 : Number(process.env.FUZZ_SEED)
/** In every generated path: an answer that contains it echoes the URL. */
const MARKER = 'zqxMARKERzqx'

async function exchange (port: number, request: Buffer): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.once('close', () => resolve(Buffer.concat(chunks)))
    socket.once('connect', () => socket.end(request))
    socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error('no answer within 10 s')) })
  })
}

/** The first final (non-1xx) answer in `bytes`: status, headers, body (Content-Length framed). */
function firstAnswer (bytes: Buffer): { status: number, headers: string, body: string } | undefined {
  let rest = bytes.toString('latin1')
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(rest)
    if (end < 0 || status === null) return undefined
    const headers = rest.slice(0, end)
    rest = rest.slice(end + 4)
    if (Number(status[1]) < 200) continue
    const length = /\r\ncontent-length: *(\d+)/i.exec(headers)
    return { status: Number(status[1]), headers, body: length === null ? rest : rest.slice(0, Number(length[1])) }
  }
}

const printable = fc.string({ unit: 'binary-ascii', maxLength: 30 })
const hostile = fc.oneof(printable, fc.constantFrom('\x00', '\x01', '\x7f', '\r', '\n', '\r\n', ' ', '\t', 'é', 'x'.repeat(17_000)))
const requestArbitrary = fc.record({
  method: fc.oneof(
    { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PROPFIND'), weight: 8 },
    { arbitrary: fc.stringMatching(/^[A-Z]{1,8}$/), weight: 1 },
    { arbitrary: hostile, weight: 1 }
  ),
  path: fc.tuple(
    fc.constantFrom('/hermod/rest/command/', '/hermod/rest/ms/', '/hermod/actuator/', '/hermod/dev/api/', '/hermod/admin/callbacks/', '', '*', 'http://x/'),
    fc.oneof(
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,20}$/), weight: 4 },
      { arbitrary: fc.constantFrom('%', '%zz', '%C0%AF', '%00', 'a'.repeat(120), '1/2'), weight: 2 },
      { arbitrary: printable, weight: 1 }
    ),
    fc.constantFrom('', '?wait=0', '?a=%zz', '?__proto__=1')
  ).map(([base, middle, query]) => `${base}${MARKER}${middle}${query}`),
  version: fc.oneof({ arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), weight: 8 }, { arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.1x', 'http/1.1', ''), weight: 1 }),
  headers: fc.array(fc.tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom('Host', 'X-Api-Key', 'Content-Type', 'Content-Length', 'Transfer-Encoding', 'Expect', 'Connection', 'Authorization', 'x-filler'), weight: 10 },
      { arbitrary: hostile, weight: 1 }
    ),
    fc.oneof(
      { arbitrary: fc.constantFrom('x', 'application/json', 'chunked', '10', '-1', '100-continue', 'close', 'Basic !!!', 'text/plain'), weight: 6 },
      { arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,30}$/), weight: 3 },
      { arbitrary: hostile, weight: 1 }
    )
  ), { maxLength: 4 }),
  host: fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, { arbitrary: fc.constant(false), weight: 1 }),
  body: fc.oneof(fc.constant(''), fc.constantFrom('{}', '{"commandHeader":', '5\r\nabc\r\n0\r\n\r\n', 'zz\r\n'), printable)
})

t.test('generated raw requests: a HERMOD_* answer every time, no 5xx, the parser\'s refusals never echo the URL', async (t) => {
  // A short request timeout, checked often, so that a request left incomplete is answered (408) quickly.
  const timeouts = { headers: 1000, request: 1000, checkingInterval: 50 }
  const broker = await createBroker(testConfig({ broker: { dev: { enabled: true } }, server: { timeouts } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = broker.app.server.address() as AddressInfo
  const statuses = new Map<number, number>()
  const property = fc.asyncProperty(requestArbitrary, async (r) => {
    const head = [`${r.method} ${r.path} ${r.version}`, ...(r.host ? ['Host: broker.example'] : []), ...r.headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n')
    const bytes = await exchange(port, Buffer.from(`${head}\r\n\r\n${r.body}`, 'latin1'))
    const answer = firstAnswer(bytes)
    if (answer === undefined) throw new Error(`no HTTP answer: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`)
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
    if (answer.status >= 500) throw new Error(`a ${answer.status}: ${answer.body.slice(0, 200)}`)
    if (answer.status < 400 || r.method === 'HEAD') return
    const body = JSON.parse(answer.body) as { code?: unknown, statusCode?: unknown }
    if (typeof body.code !== 'string' || !body.code.startsWith('HERMOD_') || body.statusCode !== answer.status) throw new Error(`not a HERMOD body: ${answer.body}`)
    if (body.code !== 'HERMOD_NOT_FOUND' && bytes.includes(MARKER)) throw new Error(`${answer.status} ${body.code} echoes the URL: ${answer.body}`)
  })
  try {
    await fc.assert(property, { numRuns: RAW_REQUESTS, seed, includeErrorInReport: true })
    t.pass(`${RAW_REQUESTS} raw requests (seed ${seed})`)
  } catch (err) {
    t.fail(`a raw request was answered badly (FUZZ_SEED=${seed} replays it)`, { diagnostic: true, report: String((err as Error).message).slice(0, 4000) })
  }
  t.comment(`statuses: ${[...statuses].map(([s, n]) => `${s}x${n}`).join(' ')}`)
  t.ok([...statuses.keys()].some((s) => s === 400) && [...statuses.keys()].some((s) => s < 400 || s === 404), 'both refusals and routed answers were seen')
  const res = await fetch(`http://127.0.0.1:${port}/hermod/actuator/health/liveness`)
  t.equal(res.status, 200, 'still serving')
})
