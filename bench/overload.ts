// `npx tsx bench/overload.ts`: R29's attack (autocannon, its own process: 1,000 connections x 10 pipelined) against a broker
// process, with fresh-connection probes, liveness probes, a steady client, RSS samples and the recovery after it.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Agent, request } from 'undici'
import { startBrokerProcess, type BrokerProcess } from '../src/bench/broker-process.js'
import { BENCH_TLS } from '../src/bench/http-client.js'
import { signCommandBody } from '../src/bench/hermod-api.js'
import { startPrivateRedis, type PrivateRedis } from '../src/bench/redis-server.js'
import { median, percentile, round } from '../src/bench/stats.js'

type Store = 'memory' | 'redis'
const log = (text: string): void => { process.stderr.write(`${text}\n`) }

/** The attack comes from one loopback address here, from many in life: the per-address limit is lifted for it. */
const OVERRIDES: Record<string, string> = {
  'server.max-connections-per-address': '0',
  'broker.callbacks.concurrency': '256',
  ...(process.env.HERMOD_OVERLOAD_SET === undefined ? {} : JSON.parse(process.env.HERMOD_OVERLOAD_SET) as Record<string, string>)
}

interface Autocannon {
  requests: { average: number, total: number }
  latency: { p50: number, p99: number, max: number }
  errors: number
  timeouts: number
  non2xx: number
  statusCodeStats?: Record<string, { count: number }>
}

/** autocannon in its own process against the accept route, `--json`. */
async function autocannon (broker: BrokerProcess, connections: number, pipelining: number, seconds: number): Promise<Autocannon> {
  const script = createRequire(import.meta.url).resolve('autocannon/autocannon.js')
  const url = `${broker.target.origin}${broker.target.prefix}/command/sign`
  const args = [script, '-c', String(connections), '-p', String(pipelining), '-d', String(seconds), '-t', '10', '-m', 'POST',
    '-H', `x-api-key=${broker.target.apiKey}`, '-H', 'content-type=application/json', '-b', signCommandBody(300), '--json', url]
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
    child.once('error', reject)
    child.once('exit', () => {
      try { resolve(JSON.parse(out) as Autocannon) } catch { reject(new Error(`autocannon printed no JSON: ${out.slice(0, 300)}`)) }
    })
  })
}

/** A client of `connections` kept-alive connections, 10 s limits everywhere. */
const agentOf = (connections: number): Agent =>
  new Agent({ connections, pipelining: 1, connect: { ...BENCH_TLS, timeout: 10_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 })

/** One request on a connection of its own (TLS handshake included), ms and status; status 0 when no answer within 10 s. */
async function fresh (broker: BrokerProcess, path: string, body?: string): Promise<{ ms: number, status: number }> {
  const agent = agentOf(1)
  const started = performance.now()
  try {
    const res = await request(`${broker.target.origin}${path}`, {
      dispatcher: agent,
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'x-api-key': broker.target.apiKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body })
    })
    await res.body.text()
    return { ms: performance.now() - started, status: res.statusCode }
  } catch {
    return { ms: performance.now() - started, status: 0 }
  } finally {
    void agent.destroy()
  }
}

const summary = (samples: number[]): { p50: number | null, p99: number | null, max: number | null, count: number } => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p: number): number | null => round(percentile(sorted, p), 1)
  return { p50: at(50), p99: at(99), max: round(sorted.at(-1) ?? NaN, 1), count: sorted.length }
}

/**
 * Liveness on a connection of its own, raw TLS (or TCP) so that the parts show: the time until the handshake is
 * done, until the answer's head, and who answered (the front closes its connections, the broker process keeps them).
 */
async function freshLiveness (broker: BrokerProcess, tls: boolean): Promise<{ ms: number, status: number, handshakeMs: number, by: 'front' | 'broker' | 'none' }> {
  const url = new URL(broker.target.origin)
  const started = performance.now()
  return await new Promise((resolve) => {
    let handshakeMs = NaN
    let head = ''
    const options = { host: url.hostname, port: Number(url.port), ...BENCH_TLS }
    const socket = tls ? tlsConnect(options) : netConnect(options)
    const done = (status: number, by: 'front' | 'broker' | 'none'): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ ms: performance.now() - started, status, handshakeMs, by })
    }
    const timer = setTimeout(() => done(0, 'none'), 10_000)
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      handshakeMs = performance.now() - started
      socket.write(`GET /hermod/actuator/health/liveness HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`)
    })
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      done(status, /\r\nconnection: close\r\n/i.test(head.slice(0, end + 2)) ? 'front' : 'broker')
    })
    socket.once('error', () => done(0, 'none'))
  })
}

/** Every `everyMs` until `stop`, `probe` on a fresh connection; the answers' times and statuses. */
async function probing<R> (everyMs: number, stop: { done: boolean }, probe: () => Promise<R>): Promise<R[]> {
  const results: Array<Promise<R>> = []
  while (!stop.done) {
    results.push(probe())
    await sleep(everyMs)
  }
  return await Promise.all(results)
}

/** A client with 4 kept-alive connections sending one accept after the other: the latency of accepted requests. */
async function steady (broker: BrokerProcess, stop: { done: boolean }): Promise<{ ok: number[], shed: number, failed: number }> {
  const agent = agentOf(4)
  const ok: number[] = []
  let shed = 0
  let failed = 0
  const body = signCommandBody(300)
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (!stop.done) {
      const started = performance.now()
      try {
        const res = await request(`${broker.target.origin}${broker.target.prefix}/command/sign`, {
          dispatcher: agent, method: 'POST', headers: { 'x-api-key': broker.target.apiKey, 'content-type': 'application/json' }, body
        })
        await res.body.text()
        if (res.statusCode === 200) ok.push(performance.now() - started)
        else if (res.statusCode === 503) { shed++; await sleep(100) } else failed++
      } catch {
        failed++
      }
    }
  }))
  await agent.close()
  return { ok, shed, failed }
}

/**
 * The broker's own timing of accepted sign commands (its request-duration histogram, 2xx): cumulative count per
 * bucket bound. Read once the broker answers the scrape itself (the front answers 503 right after an overload).
 */
async function acceptedBuckets (broker: BrokerProcess): Promise<Map<number, number>> {
  const agent = new Agent({ connect: BENCH_TLS })
  try {
    let text = ''
    for (let i = 0; i < 40 && !text.startsWith('#'); i++) {
      const res = await request(`${broker.target.origin}/hermod/actuator/prometheus`, { dispatcher: agent })
      text = await res.body.text()
      if (res.statusCode !== 200) { text = ''; await sleep(250) }
    }
    const buckets = new Map<number, number>()
    for (const [line] of text.matchAll(/^hermod_http_request_duration_seconds_bucket\{[^}]*\} \d+$/gm)) {
      if (!line.includes('/command/') || !line.includes('status="2xx"')) continue
      const le = /le="([^"]+)"/.exec(line)![1]!
      const bound = le === '+Inf' ? Infinity : Number(le)
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.split(' ').at(-1)))
    }
    return buckets
  } finally {
    await agent.close()
  }
}

/** p50 and p99 of what was observed between two readings of the histogram, as the bucket bound they fall under, ms. */
type BucketSummary = { count: number, p50: number | null, p99: number | null }
function bucketPercentiles (before: Map<number, number>, after: Map<number, number>): BucketSummary {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0))
  const total = counts.at(-1) ?? 0
  const under = (q: number): number | null => {
    const i = counts.findIndex((c) => c >= q * total)
    return total === 0 || i < 0 ? null : bounds[i]! * 1000
  }
  return { count: total, p50: under(0.5), p99: under(0.99) }
}

async function shedCounts (broker: BrokerProcess): Promise<Record<string, number>> {
  const { status, ms } = await fresh(broker, '/hermod/actuator/health/liveness')
  if (status !== 200) log(`    liveness after the run: ${status} in ${ms} ms`)
  const agent = new Agent({ connect: BENCH_TLS })
  try {
    const text = await (await request(`${broker.target.origin}/hermod/actuator/prometheus`, { dispatcher: agent })).body.text()
    return Object.fromEntries([...text.matchAll(/^hermod_requests_shed_total\{reason="([a-z-]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]))
  } finally {
    await agent.close()
  }
}

interface Shape { connections: number, pipelining: number, seconds: number, tls: boolean }

async function oneRun (store: Store, redis: PrivateRedis | undefined, o: Shape): Promise<object> {
  await redis?.flushAll()
  const redisUrl = redis === undefined ? {} : { redisUrl: redis.url }
  const broker = await startBrokerProcess({ store, ...redisUrl, overrides: OVERRIDES, tls: o.tls })
  try {
    const baseline = await autocannon(broker, 32, 1, 5)
    const outputBefore = broker.rssBytes()
    const bucketsBefore = await acceptedBuckets(broker)
    const stop = { done: false }
    const rss: number[] = []
    const sampler = (async () => { while (!stop.done) { rss.push(broker.rssBytes() ?? 0); await sleep(250) } })()
    const attack = autocannon(broker, o.connections, o.pipelining, o.seconds)
    await sleep(1500) // connections up and handshakes done: probe the overload, not the ramp
    const probes = probing(500, stop, async () => await fresh(broker, `${broker.target.prefix}/command/sign`, signCommandBody(300)))
    const liveness = probing(500, stop, async () => await freshLiveness(broker, o.tls))
    const steadyClient = steady(broker, stop)
    const attackResult = await attack
    const attackEnded = performance.now()
    stop.done = true
    const [probeResults, livenessResults, steadyResult] = await Promise.all([probes, liveness, steadyClient, sampler])
    // Recovery: a fresh accept answered 200 in under 200 ms.
    let recoveredMs: number | null = null
    for (let i = 0; i < 200; i++) {
      const r = await fresh(broker, `${broker.target.prefix}/command/sign`, signCommandBody(300))
      if (r.status === 200 && r.ms < 200) { recoveredMs = performance.now() - attackEnded; break }
      await sleep(100)
    }
    // The broker's timing of what it accepted during the attack (and the few recovery probes above).
    const acceptedInBroker = bucketPercentiles(bucketsBefore, await acceptedBuckets(broker))
    const after = await autocannon(broker, 32, 1, 5)
    const shed = await shedCounts(broker)
    // Lines about shedding in the broker's output (its last 16 KiB: per-request lines would fill it).
    const warnLines = broker.output().split('\n').filter((line) => line.includes('overloaded')).length
    const result = {
      store,
      baseline: { perSecond: baseline.requests.average, p50: baseline.latency.p50, p99: baseline.latency.p99, errors: baseline.errors },
      attack: {
        perSecond: attackResult.requests.average,
        statusCodes: Object.fromEntries(Object.entries(attackResult.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
        unanswered: attackResult.timeouts,
        errors: attackResult.errors,
        latencyAllMs: { p50: attackResult.latency.p50, p99: attackResult.latency.p99, max: attackResult.latency.max }
      },
      freshAccept: { ...summary(probeResults.map((r) => r.ms)), statuses: countStatuses(probeResults) },
      freshLiveness: {
        ...summary(livenessResults.map((r) => r.ms)),
        statuses: countStatuses(livenessResults),
        handshake: summary(livenessResults.map((r) => r.handshakeMs).filter((ms) => !Number.isNaN(ms))),
        byFront: summary(livenessResults.filter((r) => r.by === 'front').map((r) => r.ms)),
        byBroker: summary(livenessResults.filter((r) => r.by === 'broker').map((r) => r.ms))
      },
      steadyAcceptedMs: { ...summary(steadyResult.ok), shed: steadyResult.shed, failed: steadyResult.failed },
      acceptedInBrokerMs: acceptedInBroker,
      peakRssMiB: round(Math.max(...rss, outputBefore ?? 0) / 2 ** 20, 0),
      shed,
      overloadLogLines: warnLines,
      recoveredAfterMs: recoveredMs === null ? null : round(recoveredMs, 0),
      after: {
        perSecond: after.requests.average,
        p99: after.latency.p99,
        ratioToBaseline: round(after.requests.average / baseline.requests.average, 2)
      }
    }
    log(JSON.stringify(result))
    return result
  } finally {
    await broker.stop()
  }
}

function countStatuses (results: Array<{ status: number }>): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of results) counts[String(r.status)] = (counts[String(r.status)] ?? 0) + 1
  return counts
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { store: { type: 'string' }, runs: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, pipelining: { type: 'string' }, out: { type: 'string' }, http: { type: 'boolean' } } })
  const stores: Store[] = values.store === undefined || values.store === 'both' ? ['memory', 'redis'] : [values.store as Store]
  const runs = Number(values.runs ?? 2)
  const o: Shape = {
    connections: Number(values.connections ?? 1000),
    pipelining: Number(values.pipelining ?? 10),
    seconds: Number(values.duration ?? 10),
    tls: values.http !== true
  }
  const redis = stores.includes('redis') ? await startPrivateRedis() : undefined
  const results: Record<string, object[]> = {}
  try {
    for (let run = 1; run <= runs; run++) {
      for (const store of stores) {
        log(`[${run}/${runs}] ${store}: ${o.connections} connections x ${o.pipelining} pipelined for ${o.seconds} s over ${o.tls ? 'TLS' : 'HTTP'}`)
        ;(results[store] ??= []).push(await oneRun(store, redis, o))
      }
    }
  } finally {
    await redis?.stop()
  }
  const medians = Object.fromEntries(Object.entries(results).map(([store, rs]) => [store, {
    freshAcceptP99Ms: median(rs.map((r: any) => r.freshAccept.p99)),
    freshLivenessP99Ms: median(rs.map((r: any) => r.freshLiveness.p99)),
    steadyAcceptedP99Ms: median(rs.map((r: any) => r.steadyAcceptedMs.p99)),
    acceptedInBrokerP99Ms: median(rs.map((r: any) => r.acceptedInBrokerMs.p99)),
    peakRssMiB: median(rs.map((r: any) => r.peakRssMiB)),
    unanswered: rs.reduce((sum, r: any) => sum + r.attack.unanswered, 0),
    recoveredAfterMs: median(rs.map((r: any) => r.recoveredAfterMs ?? NaN)),
    afterToBaseline: median(rs.map((r: any) => r.after.ratioToBaseline))
  }]))
  const out = values.out ?? fileURLToPath(new URL('./results/overload.json', import.meta.url))
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ startedAt: new Date().toISOString(), settings: o, overrides: OVERRIDES, medians, runs: results }, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(medians, null, 2)}\nwritten to ${out}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:overload: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
