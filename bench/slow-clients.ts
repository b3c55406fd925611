// `npx tsx bench/slow-clients.ts`: how long a broker process on its default server.* timeouts keeps each kind of slow client
// (dripped headers, dripped body, a silent TLS socket, a client that never reads), and a normal client's p99 meanwhile.
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { startBrokerProcess } from '../src/bench/broker-process.js'
import { BENCH_TLS, BenchClient } from '../src/bench/http-client.js'
import { percentile, round } from '../src/bench/stats.js'

/** Seconds until `socket` closes, calling `tick` every second meanwhile; null when still open after `boundS`. */
async function closedAfter (socket: Socket, boundS: number, tick: () => void = () => {}): Promise<number | null> {
  const started = performance.now()
  return await new Promise((resolve) => {
    const timer = setInterval(() => { if (socket.writable) tick() }, 1000)
    const bound = setTimeout(() => { clearInterval(timer); socket.destroy(); resolve(null) }, boundS * 1000)
    socket.on('error', () => {})
    socket.once('close', () => { clearInterval(timer); clearTimeout(bound); resolve(round((performance.now() - started) / 1000, 1)) })
  })
}

async function main (): Promise<void> {
  const broker = await startBrokerProcess({ store: 'memory' })
  const { hostname, port } = new URL(broker.target.origin)
  const tls = (): Socket => tlsConnect({ host: hostname, port: Number(port), ...BENCH_TLS })
  const secure = async (): Promise<Socket> => await new Promise((resolve) => { const s = tls(); s.once('secureConnect', () => resolve(s)) })
  try {
    const headers = await secure()
    headers.write('GET /hermod/actuator/health/liveness HTTP/1.1\r\nHost: x\r\n')
    const body = await secure()
    body.write(`POST /hermod/rest/command/ping HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${broker.target.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"`)
    const silent = netConnect({ host: hostname, port: Number(port) })
    // A normal client meanwhile: 4 connections, one request after the other.
    const client = new BenchClient({ origin: broker.target.origin, connections: 4 })
    const latencies: number[] = []
    const stop = { done: false }
    const normal = Promise.all([0, 1, 2, 3].map(async () => {
      while (!stop.done) {
        const started = performance.now()
        await client.send('GET', '/hermod/actuator/health/liveness', {})
        latencies.push(performance.now() - started)
        await sleep(20)
      }
    }))
    const [h, b, s] = await Promise.all([
      closedAfter(headers, 120, () => headers.write('x-drip: 1\r\n')),
      closedAfter(body, 120, () => body.write('b')),
      closedAfter(silent, 120)
    ])
    // The normal client stops here: its reconnects would move the gauge the never-reading clients are timed by.
    stop.done = true
    await normal
    await client.close()
    // A client that does not read sees no close either: the broker's open-sockets gauge says when it went, against
    // the gauge before it connected (this one's own connection stays open throughout).
    const metrics = new BenchClient({ origin: broker.target.origin, connections: 1 })
    const open = async (): Promise<number> =>
      Number(/^hermod_connections_open (\d+)/m.exec((await metrics.send('GET', '/hermod/actuator/prometheus', {})).body)?.[1] ?? NaN)
    const neverReads = async (requests: number): Promise<number | null> => {
      const before = await open()
      const reader = await secure()
      reader.on('error', () => {})
      reader.pause()
      reader.write('GET /hermod/v3/api-docs HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(requests))
      const readerAt = performance.now()
      let cut: number | null = null
      while (performance.now() - readerAt < 120_000) {
        await sleep(250)
        if (await open() <= before) { cut = round((performance.now() - readerAt) / 1000, 1); break }
      }
      reader.destroy()
      return cut
    }
    // 2,000 at once: more than Node parses before it stops reading (back-pressure); 40: parsed at once, answers in the socket buffers.
    const r = await neverReads(2000)
    const r40 = await neverReads(40)
    await metrics.close()
    const sorted = latencies.sort((x, y) => x - y)
    process.stdout.write(`${JSON.stringify({
      cutAfterSeconds: { drippedHeaders: h, drippedBody: b, silentTls: s, neverReads2000: r, neverReads40: r40 },
      normalClient: { requests: sorted.length, p50Ms: round(percentile(sorted, 50), 1), p99Ms: round(percentile(sorted, 99), 1) }
    })}\n`)
  } finally {
    await broker.stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:slow-clients: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
