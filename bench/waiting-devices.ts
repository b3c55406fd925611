// Thousands of waiting devices: N concurrent long polls on one broker process, memory per waiting device, wake-up
// latency when their messages arrive, and what is left once they hang up (waiters, watched boxes, sockets).
import { readFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { startBrokerProcess, type BrokerProcess } from '../src/bench/broker-process.js'
import { signCommandBody } from '../src/bench/hermod-api.js'
import { BENCH_TLS, BenchClient } from '../src/bench/http-client.js'
import { runLoop } from '../src/bench/loop.js'
import { CpuMeter } from '../src/bench/process-stats.js'
import type { PrivateRedis } from '../src/bench/redis-server.js'
import { percentile, round } from '../src/bench/stats.js'

export interface WaitingDevicesResult {
  status: 'ok'
  store: 'memory' | 'redis'
  devices: number
  tls: boolean
  /** Broker RSS growth from no poll to all polls waiting, per waiting device. */
  rssBytesPerDevice: number | null
  rssBeforeBytes: number | null
  rssWaitingBytes: number | null
  /** From sending a device's command to its poll's answer, ms. */
  wakeMs: { p50: number | null, p99: number | null, max: number | null }
  /** Polls answered without their message, refused, or whose socket failed. */
  errors: number
  /** After every device hung up (second round, no message): what the broker still held. */
  leftAfterHangUp: { waiting: number, boxesWatched: number, connectionsOpen: number }
  /** The process's open-files limit the bench ran under (each poll is a socket in both processes). */
  openFilesLimit: string
  cpu: Record<string, number | null>
}

export interface WaitingDevicesOptions {
  store: 'memory' | 'redis'
  redis?: PrivateRedis
  devices: number
  tls?: boolean
  overrides?: Record<string, string>
  cpus?: string
}

interface Device { to: string, bid: string, token: string, mid?: string }

/** One long poll on its own socket; `answer` resolves with the raw answer (or '' when the socket fails). */
function openPoll (broker: BrokerProcess, device: Device, tls: boolean): { socket: Socket, answer: Promise<string> } {
  const { hostname, port } = new URL(broker.target.origin)
  const request = `GET ${broker.target.prefix}/ms/${device.bid}?token=${device.token}&wait=60 HTTP/1.1\r\nHost: x\r\n\r\n`
  const socket = tls
    ? tlsConnect({ host: hostname, port: Number(port), ...BENCH_TLS }, () => socket.write(request))
    : netConnect({ host: hostname, port: Number(port) }, () => socket.write(request))
  const answer = new Promise<string>((resolve) => {
    let text = ''
    socket.once('error', () => resolve(''))
    socket.once('close', () => resolve(text))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      const [head, body = ''] = text.split('\r\n\r\n', 2) as [string, string | undefined]
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? NaN)
      if (Buffer.byteLength(body) >= length) resolve(text)
    })
  })
  return { socket, answer }
}

async function gauge (client: BenchClient, name: string): Promise<number> {
  const res = await client.send('GET', '/hermod/actuator/prometheus', {})
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(res.body)?.[1] ?? NaN)
}

/** Opens a poll per device, `batch` at a time, each batch once the previous ones all wait. */
type Poll = ReturnType<typeof openPoll>

async function openAll (broker: BrokerProcess, devices: Device[], tls: boolean, metrics: BenchClient): Promise<Poll[]> {
  const polls: Poll[] = []
  const batch = 500
  for (let i = 0; i < devices.length; i += batch) {
    for (const d of devices.slice(i, i + batch)) polls.push(openPoll(broker, d, tls))
    const deadline = Date.now() + 20_000
    while (!(await gauge(metrics, 'hermod_long_polls_waiting') >= polls.length) && Date.now() < deadline) await sleep(100)
  }
  return polls
}

export async function measureWaitingDevices (options: WaitingDevicesOptions): Promise<WaitingDevicesResult> {
  await options.redis?.flushAll()
  const tls = options.tls ?? false
  const broker = await startBrokerProcess({
    store: options.store,
    tls,
    ...(options.redis === undefined ? {} : { redisUrl: options.redis.url }),
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    // Every device comes from one loopback address here. A batch of 500 new polls can push the event-loop delay
    // past its limit and be shed (503, Retry-After: as it should); this row measures waiting, so that signal is off.
    overrides: {
      'server.max-connections': '0',
      'server.max-connections-per-address': '0',
      'broker.overload.max-event-loop-delay-ms': '0',
      ...options.overrides
    }
  })
  const client = new BenchClient({ origin: broker.target.origin, connections: 32 })
  const metrics = new BenchClient({ origin: broker.target.origin, connections: 1 })
  const headers = { 'x-api-key': broker.target.apiKey }
  const body = (to: string): string => signCommandBody(600).replace('"to":["@tmp"]', `"to":["${to}"]`)
  try {
    // An empty named box per device: a command accepted into it and answered.
    const devices: Device[] = []
    let next = 0
    await runLoop(async () => {
      const to = `device-${next++}`
      const res = await client.send('POST', `${broker.target.prefix}/command/sign`, headers, body(to))
      const d = (JSON.parse(res.body) as { destinations: Array<{ bid: string, mid: string, uri: string }> }).destinations[0]!
      await client.send('POST', `${broker.target.prefix}/ms/${d.bid}/${d.mid}`, {}, '{"status":"OK"}')
      devices.push({ to, bid: d.bid, token: new URL(d.uri).searchParams.get('token')! })
    }, { concurrency: 32, maxOperations: options.devices, durationMs: 600_000 })
    await sleep(2000)
    const rssBefore = broker.rssBytes()
    const meter = new CpuMeter({ broker: broker.pid, redis: options.redis?.pid })
    meter.start()
    const polls = await openAll(broker, devices, tls, metrics)
    await sleep(2000)
    const rssWaiting = broker.rssBytes()

    // Wake-up: a command for each device, 64 at a time; from sending it to its poll's answer.
    const sentAt = new Map<number, number>()
    const wake: number[] = []
    let errors = 0
    const answered = polls.map(async (p, i) => {
      const text = await p.answer
      const at = performance.now()
      const mid = /"mid":"([0-9a-f-]{36})"/.exec(text)?.[1]
      if (!text.startsWith('HTTP/1.1 200') || mid === undefined) { errors++; return }
      devices[i]!.mid = mid
      wake.push(at - (sentAt.get(i) ?? at))
    })
    let i = 0
    await runLoop(async () => {
      const index = i++
      sentAt.set(index, performance.now())
      await client.send('POST', `${broker.target.prefix}/command/sign`, headers, body(devices[index]!.to))
    }, { concurrency: 64, maxOperations: devices.length, durationMs: 600_000 })
    await Promise.all(answered)
    for (const p of polls) p.socket.destroy()
    const { cores } = meter.stop()

    // Hang-up: the boxes emptied again, a poll per device, then every device goes away without a message.
    let j = 0
    await runLoop(async () => {
      const d = devices[j++]!
      if (d.mid !== undefined) await client.send('POST', `${broker.target.prefix}/ms/${d.bid}/${d.mid}`, {}, '{"status":"OK"}')
    }, { concurrency: 32, maxOperations: devices.length, durationMs: 600_000 })
    const again = await openAll(broker, devices, tls, metrics)
    for (const p of again) p.socket.destroy()
    await client.close()
    await sleep(3000)
    const sorted = [...wake].sort((a, b) => a - b)
    return {
      status: 'ok',
      store: options.store,
      devices: devices.length,
      tls,
      rssBytesPerDevice: rssBefore === null || rssWaiting === null ? null : Math.round((rssWaiting - rssBefore) / devices.length),
      rssBeforeBytes: rssBefore,
      rssWaitingBytes: rssWaiting,
      wakeMs: { p50: round(percentile(sorted, 50), 1), p99: round(percentile(sorted, 99), 1), max: round(sorted.at(-1) ?? NaN, 1) },
      errors,
      leftAfterHangUp: {
        waiting: await gauge(metrics, 'hermod_long_polls_waiting'),
        boxesWatched: await gauge(metrics, 'hermod_long_poll_boxes_watched'),
        // The metrics client's own connection is the one left.
        connectionsOpen: await gauge(metrics, 'hermod_connections_open') - 1
      },
      openFilesLimit: openFilesLimit(),
      cpu: cores
    }
  } finally {
    await client.close().catch(() => {})
    await metrics.close()
    await broker.stop()
  }
}

/** The soft limit on open files of this process (Linux /proc), e.g. "20000". */
function openFilesLimit (): string {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8')
    return /Max open files\s+(\S+)/.exec(limits)?.[1] ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
