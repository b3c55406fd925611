// `npx tsx bench/connection-rate.ts`: clients that open a new TLS connection per request (no keep-alive), against a broker
// process with server.front-process on and off, back to back: what the front's one-socket-per-IPC-round-trip handover costs.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startBrokerProcess, type BrokerProcess } from '../src/bench/broker-process.js'
import { BENCH_TLS } from '../src/bench/http-client.js'
import { signCommandBody } from '../src/bench/hermod-api.js'
import { median, percentile, round } from '../src/bench/stats.js'

const log = (text: string): void => { process.stderr.write(`${text}\n`) }

/** One accept on a connection of its own (`Connection: close`); ms and status, 0 on an error or no answer in 10 s. */
async function oneConnection (broker: BrokerProcess, request: string): Promise<{ ms: number, status: number }> {
  const url = new URL(broker.target.origin)
  const started = performance.now()
  return await new Promise((resolve) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ...BENCH_TLS })
    let head = ''
    const done = (status: number): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ ms: performance.now() - started, status })
    }
    const timer = setTimeout(() => done(0), 10_000)
    socket.once('secureConnect', () => socket.write(request))
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) done(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0))
    })
    socket.once('error', () => done(0))
  })
}

/** `clients` loops, each one connection per request, for `seconds`. */
async function run (front: boolean, clients: number, seconds: number): Promise<object> {
  const broker = await startBrokerProcess({ store: 'memory', overrides: { 'server.front-process': String(front), 'server.max-connections-per-address': '0' } })
  try {
    const body = signCommandBody(30)
    const url = new URL(broker.target.origin)
    const request = `POST ${broker.target.prefix}/command/sign HTTP/1.1\r\nhost: ${url.host}\r\nx-api-key: ${broker.target.apiKey}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
    const cpuBefore = broker.cpuSeconds() ?? 0
    const results: Array<{ ms: number, status: number }> = []
    const until = performance.now() + seconds * 1000
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < until) results.push(await oneConnection(broker, request))
    }))
    const cpu = (broker.cpuSeconds() ?? 0) - cpuBefore
    const ok = results.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b)
    const statuses: Record<string, number> = {}
    for (const r of results) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1
    const result = {
      front,
      perSecond: round(ok.length / seconds, 0),
      p50: round(percentile(ok, 50), 1),
      p99: round(percentile(ok, 99), 1),
      statuses,
      brokerCpuMsPerConnection: round(cpu * 1000 / Math.max(1, results.length), 3)
    }
    log(JSON.stringify(result))
    return result
  } finally {
    await broker.stop()
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, clients: { type: 'string' }, duration: { type: 'string' }, out: { type: 'string' } } })
  const runs = Number(values.runs ?? 3)
  const clients = Number(values.clients ?? 32)
  const seconds = Number(values.duration ?? 8)
  const results: { on: any[], off: any[] } = { on: [], off: [] }
  for (let i = 1; i <= runs; i++) {
    log(`[${i}/${runs}] ${clients} clients, a new TLS connection per accept, ${seconds} s: front off, then on`)
    results.off.push(await run(false, clients, seconds))
    results.on.push(await run(true, clients, seconds))
  }
  const medians = Object.fromEntries((['off', 'on'] as const).map((k) => [k, {
    perSecond: median(results[k].map((r) => r.perSecond)),
    p99: median(results[k].map((r) => r.p99)),
    brokerCpuMsPerConnection: median(results[k].map((r) => r.brokerCpuMsPerConnection))
  }]))
  const ratio = round(medians.on!.perSecond / medians.off!.perSecond, 2)
  const out = values.out ?? fileURLToPath(new URL('./results/connection-rate.json', import.meta.url))
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ startedAt: new Date().toISOString(), clients, seconds, medians, onToOff: ratio, runs: results }, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify({ medians, onToOff: ratio }, null, 2)}\nwritten to ${out}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:connection-rate: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
