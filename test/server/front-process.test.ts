// server.front-process on real processes and TLS (R29): handed sockets served, the front answering under a flood, SIGTERM, dying processes.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { spawnBroker, type BrokerProcess } from '../helpers/broker-process.js'
import { KEYS } from '../helpers/config.js'

const KEY = apiKeyHeader('prime', KEYS.prime)
const SIGN = JSON.stringify({ commandHeader: { timeout: 60, lifespan: 120, to: ['front-box'] }, signCommand: { params: { tbs: 'VGVzdA==' } } })
/** Hang guard for one answer (no timing assertion): far above anything a working front needs. */
const GUARD_MS = 20_000

interface Started { broker: BrokerProcess, brokerPid: number | undefined }

async function start (t: Test, set: string[] = []): Promise<Started> {
  const dir = t.testdir()
  const file = join(dir, 'application.yml')
  writeFileSync(file, JSON.stringify({
    server: { port: 0, address: '127.0.0.1', ssl: { enabled: true } },
    broker: { 'data-dir': dir },
    'allowed-clients': [{ 'client-id': 'prime', key: KEYS.prime, group: 'acme' }]
  }))
  const broker = await spawnBroker({ args: ['--config', file, ...set.flatMap((s) => ['--set', s])] })
  t.teardown(async () => { if (broker.child.exitCode === null && broker.child.signalCode === null) await broker.stop('SIGKILL') })
  const line = broker.output().split('\n').find((l) => l.includes('"msg":"hermod-broker listening"'))!
  const brokerPid = (JSON.parse(line) as { brokerPid?: number }).brokerPid
  if (brokerPid !== undefined) t.teardown(() => { if (running(brokerPid)) process.kill(brokerPid, 'SIGKILL') })
  return { broker, brokerPid }
}

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function gone (pid: number): Promise<boolean> {
  const deadline = Date.now() + GUARD_MS
  while (running(pid) && Date.now() < deadline) await sleep(50)
  return !running(pid)
}

/** One request on a connection of its own (TLS handshake included). */
interface Answer { status: number, headers: Record<string, unknown>, text: string }

async function fresh (broker: BrokerProcess, path: string, body?: string): Promise<Answer> {
  const connect = { rejectUnauthorized: false, timeout: GUARD_MS }
  const agent = new Agent({ connections: 1, connect, headersTimeout: GUARD_MS, bodyTimeout: GUARD_MS })
  try {
    const res = await request(`${broker.url}${path}`, {
      dispatcher: agent,
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'x-api-key': KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body })
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  } finally {
    await agent.destroy()
  }
}

t.test('the front hands its connections to the broker process: accepts, health and metrics over TLS; SIGTERM drains both', async (t) => {
  const { broker, brokerPid } = await start(t)
  t.type(brokerPid, 'number', 'the listening line names the broker process')
  t.not(brokerPid, broker.child.pid, 'a process of its own')
  t.match(broker.url, /^https:/)
  const accepted = await fresh(broker, '/hermod/rest/command/sign', SIGN)
  t.equal(accepted.status, 200, accepted.text)
  const destination = (JSON.parse(accepted.text) as { destinations: Array<{ bid: string, mid: string, uri: string }> }).destinations[0]!
  t.equal((await fresh(broker, '/hermod/actuator/health/liveness')).status, 200)
  t.equal((await fresh(broker, '/hermod/actuator/health/readiness')).status, 200)
  t.match((await fresh(broker, '/hermod/actuator/prometheus')).text, /hermod_requests_in_flight/)
  // A long poll on an emptied box, waiting in the broker process when SIGTERM reaches the front.
  const answer = await fresh(broker, `/hermod/rest/ms/${destination.bid}/${destination.mid}`, JSON.stringify({ status: 'OK', response: { signature: 'MIAG' } }))
  t.equal(answer.status, 200, answer.text)
  const token = new URL(destination.uri).searchParams.get('token')!
  const poll = fresh(broker, `/hermod/rest/ms/${destination.bid}?token=${token}&wait=30`)
  await sleep(500)
  const code = await broker.stop('SIGTERM')
  t.equal(code, 0, 'the front exits 0 with its broker process')
  const polled = await poll
  t.ok([200, 503].includes(polled.status), `the waiting poll was answered before the exit (${polled.status})`)
  t.ok(await gone(brokerPid!), 'the broker process is gone too')
  t.match(broker.output(), /"msg":"shutting down"/)
})

t.test('a client opening 40 connections at once (a pool warming up) gets 200 on every one: the front hands them all over', async (t) => {
  const { broker } = await start(t)
  const answers = await Promise.all(Array.from({ length: 40 }, async () => await fresh(broker, '/hermod/rest/command/sign', SIGN)))
  t.same(answers.map((a) => a.status), answers.map(() => 200), 'no 503 from the front for a burst of new connections at normal load')
})

t.test('under a flood from another process, a fresh connection gets 200 or 503 and liveness 200; full service after', async (t) => {
  // max-in-flight 4: the broker process sheds at once, so the front answers new connections itself.
  const { broker } = await start(t, ['broker.overload.max-in-flight=4', 'server.max-connections-per-address=0'])
  const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js')
  const flood = spawn(process.execPath, [autocannon, '-c', '200', '-p', '10', '-d', '8', '-t', '10', '-m', 'POST',
    '-H', `x-api-key=${KEY}`, '-H', 'content-type=application/json', '-b', SIGN, `${broker.url}/hermod/rest/command/sign`], { stdio: 'ignore' })
  t.teardown(() => { if (flood.exitCode === null) flood.kill('SIGKILL') })
  await sleep(2000)
  const statuses: number[] = []
  const live: number[] = []
  for (let i = 0; i < 5; i++) {
    const [accept, liveness] = await Promise.all([fresh(broker, '/hermod/rest/command/sign', SIGN), fresh(broker, '/hermod/actuator/health/liveness')])
    statuses.push(accept.status)
    live.push(liveness.status)
    if (accept.status === 503) {
      t.match(JSON.parse(accept.text), { statusCode: 503, code: 'HERMOD_OVERLOADED' })
      t.equal(accept.headers['retry-after'], '1')
    }
    await sleep(300)
  }
  t.ok(statuses.every((s) => s === 200 || s === 503), `fresh accepts: ${statuses.join(' ')}`)
  t.same(live, [200, 200, 200, 200, 200], 'liveness on fresh connections')
  await once(flood, 'exit')
  let after = 0
  const deadline = Date.now() + GUARD_MS
  while (after !== 200 && Date.now() < deadline) {
    after = (await fresh(broker, '/hermod/rest/command/sign', SIGN)).status
    if (after !== 200) await sleep(200)
  }
  t.equal(after, 200, 'a fresh accept is served again after the flood')
  await sleep(1200) // the front reports what it shed once a second
  const metrics = (await fresh(broker, '/hermod/actuator/prometheus')).text
  const front = Number(/^hermod_requests_shed_total\{reason="front"\} (\d+)/m.exec(metrics)?.[1] ?? 0)
  t.ok(front > 0, `the front answered new connections itself (hermod_requests_shed_total{reason="front"} ${front})`)
})

t.test('behind the front, the slow-client timeouts still cut: dripped headers get 408 from the broker process', async (t) => {
  const { broker } = await start(t, ['server.headers-timeout-ms=1000', 'server.connections-checking-interval-ms=100'])
  const { port } = new URL(broker.url)
  const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false })
  await once(socket, 'secureConnect')
  let answer = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk })
  socket.on('error', () => {})
  socket.write('GET /hermod/actuator/health/liveness HTTP/1.1\r\nHost: x\r\n')
  const drip = setInterval(() => { if (socket.writable) socket.write('x-drip: 1\r\n') }, 200)
  const guard = setTimeout(() => socket.destroy(), GUARD_MS)
  await once(socket, 'close')
  clearInterval(drip)
  clearTimeout(guard)
  t.match(answer, /^HTTP\/1\.1 408 .*HERMOD_REQUEST_TIMEOUT/s, 'cut by Node\'s connection checker in the broker process')
})

t.test('a broker process that dies takes its front with it; a killed front takes its broker process', async (t) => {
  const first = await start(t)
  process.kill(first.brokerPid!, 'SIGKILL')
  const [code] = await once(first.broker.child, 'exit') as [number | null]
  t.equal(code, 1, 'the front exits 1 when its broker process was killed')
  t.match(first.broker.output(), /the broker process exited; the front process exits with it/)

  const second = await start(t)
  second.broker.child.kill('SIGKILL')
  t.ok(await gone(second.brokerPid!), 'the orphaned broker process stops by itself')
})

t.test('server.front-process=false: one process, listening itself', async (t) => {
  const { broker, brokerPid } = await start(t, ['server.front-process=false'])
  t.equal(brokerPid, undefined)
  t.equal((await fresh(broker, '/hermod/actuator/health/liveness')).status, 200)
  t.equal(await broker.stop('SIGTERM'), 0)
})
