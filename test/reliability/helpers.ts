// Shared pieces of the reliability tests: a broker config file, an HTTP client that never hangs, load
// loops bounded in count and time, the checks that a 2xx command is present and whole, callback tallies.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { Agent, request } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker } from '../../src/server/broker.js'
import { spawnBroker, type BrokerProcess } from '../helpers/broker-process.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { startReceiver, type Receiver, type ReceivedRequest } from '../callbacks/helpers.js'
import { startRedis, type RedisServer, type RedisServerOptions } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import type { Test } from 'tap'

export const PRIME = apiKeyHeader('prime', KEYS.prime)
export const P = '/hermod/rest'

export interface BrokerFileOptions {
  redisUrl: string
  prefix: string
  /** Base callback URL of both acme clients (prime and hag). */
  callbackUrl?: string
  sweepIntervalMs?: number
}

/**
 * Writes a Hermod-style application.yml for a broker process on the Redis store: plain HTTP on 127.0.0.1,
 * two clients of group acme, fast callback retries, load shedding off (a noisy test machine must not
 * turn the measurements into HERMOD_OVERLOADED), log level info (spawnBroker waits for the "listening" line).
 * Returns its path.
 */
/** What most reliability tests start with: a private Redis, a 200-answering receiver, a fresh prefix, a broker config file. */
export async function startScenario (
  t: Test, redisOptions: RedisServerOptions = {}
): Promise<{ redis: RedisServer, receiver: Receiver, prefix: string, file: string }> {
  const redis = await startRedis(redisOptions)
  t.teardown(() => redis.destroy())
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const prefix = freshPrefix()
  const file = writeBrokerConfig(t.testdir(), { redisUrl: redis.url, prefix, callbackUrl: `${receiver.url}/cb` })
  return { redis, receiver, prefix, file }
}

export function writeBrokerConfig (dir: string, o: BrokerFileOptions): string {
  const callback = o.callbackUrl === undefined ? '' : `    callback-url: ${o.callbackUrl}\n`
  const text = `server:
  port: 0
  address: 127.0.0.1
  ssl:
    enabled: false
public-url: http://127.0.0.1/hermod/rest/ms
allowed-clients:
  - client-id: prime
    key: ${KEYS.prime}
    group: acme
${callback}  - client-id: hag
    key: ${KEYS.hag}
    group: acme
${callback}broker:
  store: redis
  redis:
    url: ${o.redisUrl}
    prefix: ${o.prefix}
  sweep-interval-ms: ${o.sweepIntervalMs ?? 50}
  callbacks:
    timeout-ms: 10000
    attempts: 30
    backoff-base-ms: 50
    backoff-max-ms: 500
    concurrency: 16
    per-client-concurrency: 8
  overload:
    max-event-loop-delay-ms: 0
  log:
    level: info
`
  const file = join(dir, `application-${o.prefix}.yml`)
  writeFileSync(file, text)
  return file
}

/** `hermod-broker start --config file --port port` as a child process (see test/helpers/broker-process.ts). */
export async function startBrokerProcess (configFile: string, port: number, env: Record<string, string> = {}): Promise<BrokerProcess> {
  return await spawnBroker({ args: ['--config', configFile, '--port', String(port)], env, startTimeoutMs: 40_000 })
}

/**
 * An in-process broker on the same Redis and prefix, listening on 127.0.0.1 (cheaper than another process
 * start), for checking what a killed or stopped broker process left behind. Its loops run: callbacks go on.
 */
export async function startInProcessBroker (
  redisUrl: string, prefix: string, callbackUrl?: string
): Promise<{ api: Api, close: () => Promise<void> }> {
  const config = testConfig({
    allowedClients: testClients(callbackUrl),
    broker: { store: 'redis', redis: { url: redisUrl, prefix, options: {} }, sweepIntervalMs: 50, callbacks: { attempts: 30, backoffBaseMs: 50, backoffMaxMs: 500 } }
  })
  const broker = await createBroker(config)
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  broker.start()
  const address = broker.app.server.address() as { port: number }
  const api = new Api(`http://127.0.0.1:${address.port}`)
  return { api, close: async () => { await api.close(); await broker.close() } }
}

/** One HTTP exchange: a status and body, or the error code of a request that got no answer. */
export interface Outcome {
  status?: number
  json?: any
  headers?: Record<string, string | string[] | undefined>
  /** ECONNREFUSED, UND_ERR_SOCKET (closed without an answer), UND_ERR_HEADERS_TIMEOUT (a hang), ... */
  error?: string
  /** performance.now() when the request was sent and when its outcome was known. */
  sentAt: number
  doneAt: number
}

export interface ApiOptions {
  /** A request without response headers after this long counts as a hang (error UND_ERR_HEADERS_TIMEOUT). */
  timeoutMs?: number
  connections?: number
}

/** A small HTTP client for one broker origin (which may change, e.g. after a restart on another port). */
export class Api {
  readonly agent: Agent
  private readonly timeoutMs: number

  constructor (public origin: string, options: ApiOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.agent = new Agent({
      connections: options.connections ?? 32,
      keepAliveTimeout: 2_000,
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs
    })
  }

  async call (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Outcome> {
    const sentAt = performance.now()
    try {
      const res = await request(`${this.origin}${path}`, {
        method,
        dispatcher: this.agent,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await res.body.text()
      let json: unknown
      try { json = text.length > 0 ? JSON.parse(text) : undefined } catch { json = text }
      return { status: res.statusCode, json, headers: res.headers, sentAt, doneAt: performance.now() }
    } catch (err) {
      const e = err as { code?: string, cause?: { code?: string }, name?: string }
      return { error: e.code ?? e.cause?.code ?? e.name ?? String(err), sentAt, doneAt: performance.now() }
    }
  }

  async post (type: string, body: unknown, key = PRIME): Promise<Outcome> {
    return await this.call('POST', `${P}/command/${type}`, body, { 'x-api-key': key })
  }

  async status (commandId: string, key = PRIME): Promise<Outcome> {
    return await this.call('GET', `${P}/command/${commandId}`, undefined, { 'x-api-key': key })
  }

  async read (bid: string, mid: string): Promise<Outcome> { return await this.call('GET', `${P}/ms/${bid}/${mid}`) }

  async list (bid: string, token: string, wait?: number): Promise<Outcome> {
    return await this.call('GET', `${P}/ms/${bid}?token=${token}${wait === undefined ? '' : `&wait=${wait}`}`)
  }

  async answer (bid: string, mid: string, status: 'OK' | 'REJECTED', response: unknown): Promise<Outcome> {
    return await this.call('POST', `${P}/ms/${bid}/${mid}`, { status, response })
  }

  async health (which: '' | '/liveness' | '/readiness'): Promise<Outcome> {
    return await this.call('GET', `/hermod/actuator/health${which}`)
  }

  async close (): Promise<void> { await this.agent.close().catch(() => {}) }
}

export interface Destination { to: string, bid: string, mid: string, uri: string, token: string }

/** A command that got a 2xx, as the test recorded it. */
export interface Accepted {
  commandId: string
  externalId: string | undefined
  destinations: Destination[]
  sentAt: number
  acceptedAt: number
  /** Date.now() when the 2xx arrived (wall clock, to compare with kill times). */
  wallAt: number
}

/** The command of a 2xx accept answer. */
export function acceptedFrom (o: Outcome, externalId?: string): Accepted {
  const destinations = (o.json.destinations as Array<Omit<Destination, 'token'>>).map((d) => ({ ...d, token: new URL(d.uri).searchParams.get('token')! }))
  return { commandId: String(o.json.commandId), externalId, destinations, sentAt: o.sentAt, acceptedAt: o.doneAt, wallAt: Date.now() }
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export interface LoadOptions {
  /** Concurrent loops. */
  workers: number
  /** Most iterations of all loops together. */
  maxIterations: number
  /** Longest the load runs, ms. */
  maxMs: number
  /** Pause between iterations of one loop, ms (0: none). */
  pauseMs?: number
}

/**
 * Runs `body(i, worker)` in `workers` loops until `stop()` is called, `maxIterations` ran or `maxMs`
 * passed. Returns `stop` and a promise of the iteration count.
 */
export function runLoad (o: LoadOptions, body: (i: number, worker: number) => Promise<void>): { stop: () => void, done: Promise<number> } {
  let stopped = false
  let next = 0
  const until = performance.now() + o.maxMs
  const loop = async (worker: number): Promise<void> => {
    // eslint-disable-next-line no-unmodified-loop-condition -- stop() sets `stopped` from outside while the loop awaits
    while (!stopped && next < o.maxIterations && performance.now() < until) {
      await body(next++, worker)
      if ((o.pauseMs ?? 0) > 0) await sleep(o.pauseMs!)
    }
  }
  const done = Promise.all(Array.from({ length: o.workers }, (_, w) => loop(w))).then(() => next)
  return { stop: () => { stopped = true }, done }
}

/** Polls `check` every `everyMs` until it is true; returns the ms it took, or undefined after `timeoutMs`. */
export async function timeUntil (check: () => Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<number | undefined> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started
    await sleep(everyMs)
  }
  return undefined
}

/**
 * How many of `outcomes` were sent at or after `since` (performance.now()). Outcomes are recorded once
 * answered, so a test waits on this until it has seen a window (an outage, a shutdown) instead of
 * sleeping a fixed time that a busy machine may let pass without one request in it.
 */
export function sentSince (outcomes: Outcome[], since: number): number {
  let n = 0
  for (const o of outcomes) if (o.sentAt >= since) n++
  return n
}

/** The outcome's status or error, for tallies and messages. */
export function kind (o: Outcome): string {
  if (o.error !== undefined) return o.error
  const code = typeof o.json === 'object' && o.json !== null && typeof o.json.code === 'string' ? ` ${o.json.code as string}` : ''
  return `${o.status!}${code}`
}

export function tally (outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const o of outcomes) out[kind(o)] = (out[kind(o)] ?? 0) + 1
  return out
}

export interface WholeReport {
  /** Commands that answered 404 or other destinations: not there (or another command under the id). */
  missing: Accepted[]
  /** Human-readable problems of commands that are there but not whole. */
  problems: string[]
}

/**
 * Checks every 2xx command through the API: status 200 with the same destinations, each message
 * readable (200, or 410 once timed out, 409 once decided), and listed in its box while pending.
 * `expectState` may name the state a command must be in (e.g. after a 2xx answer).
 */
export async function checkWhole (
  api: Api, accepted: Accepted[], expectState?: (a: Accepted) => string[] | undefined, concurrency = 16
): Promise<WholeReport> {
  const missing: Accepted[] = []
  const problems: string[] = []
  let next = 0
  const mids = (destinations: Array<{ mid: string }> | undefined): string => JSON.stringify(destinations?.map((d) => d.mid))
  const worker = async (): Promise<void> => {
    while (next < accepted.length) {
      const a = accepted[next++]!
      const s = await api.status(a.commandId)
      if (s.status === 404 || (s.status === 200 && mids(s.json.destinations) !== mids(a.destinations))) {
        missing.push(a)
        continue
      }
      if (s.status !== 200) { problems.push(`command ${a.commandId}: status query ${kind(s)}`); continue }
      const state = s.json.state as string
      const wanted = expectState?.(a)
      if (wanted !== undefined && !wanted.includes(state)) problems.push(`command ${a.commandId}: state ${state}, expected ${wanted.join('|')}`)
      if (s.json.externalId !== a.externalId) problems.push(`command ${a.commandId}: externalId ${String(s.json.externalId)}`)
      for (const d of a.destinations) {
        const read = await api.read(d.bid, d.mid)
        const okRead = state === 'IN_PROGRESS' ? [200] : state === 'TIMEOUT' ? [410] : [409]
        if (!okRead.includes(read.status ?? -1)) problems.push(`command ${a.commandId} (${state}): device read of ${d.to} ${kind(read)}`)
        if (read.status === 200 && read.json.mid !== d.mid) problems.push(`command ${a.commandId}: read returned another message`)
        const list = await api.list(d.bid, d.token)
        const listed = list.status === 200 && (list.json.messages as Array<{ mid: string }>).some((m) => m.mid === d.mid)
        if (list.status !== 200) problems.push(`command ${a.commandId}: box listing of ${d.to} ${kind(list)}`)
        else if (listed !== (state === 'IN_PROGRESS')) problems.push(`command ${a.commandId} (${state}): ${listed ? 'listed' : 'not listed'} in its box ${d.to}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { missing, problems }
}

/**
 * Looks at what the Redis store holds for group acme under `prefix` and returns every inconsistency:
 * a command record without its deadline while IN_PROGRESS (or with one once decided), a deadline without
 * its record, a message that the API cannot read or list, a destination without its box index entry.
 * Every record is checked, also those of accepts whose answer never reached the test (killed mid-request);
 * device reads and listings are skipped for the ids in `alreadyChecked` (checkWhole did them).
 */
export async function checkStoreConsistency (
  redisUrl: string, prefix: string, api: Api, alreadyChecked: Set<string> = new Set()
): Promise<{ records: number, ids: string[], problems: string[] }> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  const problems: string[] = []
  try {
    const base = `${prefix}:{g:acme}:`
    const ids: string[] = []
    let cursor = '0'
    do {
      const [nextCursor, batch] = await redis.scan(cursor, 'MATCH', `${base}c:*`, 'COUNT', 1000)
      cursor = nextCursor
      ids.push(...batch.map((k) => k.slice(`${base}c:`.length)))
    } while (cursor !== '0')
    const due = new Set(await redis.zrange(`${base}due`, 0, -1))
    const idSet = new Set(ids)
    for (const id of due) if (!idSet.has(id)) problems.push(`deadline of command ${id} without its record`)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++]!
        const s = await api.status(id)
        if (s.status !== 200) { problems.push(`record ${id}: status query ${kind(s)}`); continue }
        const state = s.json.state as string
        if ((state === 'IN_PROGRESS') !== due.has(id)) problems.push(`record ${id} (${state}): deadline ${due.has(id) ? 'present' : 'absent'}`)
        const destinations = s.json.destinations as Array<{ to: string, bid: string, mid: string, uri: string }>
        if (!Array.isArray(destinations) || destinations.length === 0) problems.push(`record ${id}: no destinations`)
        for (const d of destinations ?? []) {
          if (await redis.exists(`${prefix}:b:${d.bid}`) !== 1) problems.push(`record ${id}: box ${d.to} not indexed`)
          if (state !== 'IN_PROGRESS' || alreadyChecked.has(id)) continue
          const read = await api.read(d.bid, d.mid)
          if (read.status !== 200) problems.push(`record ${id}: device read of ${d.to} ${kind(read)}`)
          const list = await api.list(d.bid, new URL(d.uri).searchParams.get('token')!)
          if (list.status !== 200 || !(list.json.messages as Array<{ mid: string }>).some((m) => m.mid === d.mid)) problems.push(`record ${id}: not listed in its box ${d.to} (${kind(list)})`)
        }
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    return { records: ids.length, ids, problems }
  } finally {
    redis.disconnect()
  }
}

/** Callback bodies at a receiver, grouped by command: distinct webhook-ids and their states. */
export interface CallbackTally {
  /** commandId -> distinct webhook-ids seen. */
  ids: Map<string, Set<string>>
  /** commandId -> states seen (one per distinct webhook-id). */
  states: Map<string, string[]>
  /** Deliveries in all (a redelivery of the same webhook-id counts again). */
  deliveries: number
}

export function tallyCallbacks (requests: ReceivedRequest[]): CallbackTally {
  const ids = new Map<string, Set<string>>()
  const states = new Map<string, string[]>()
  for (const r of requests) {
    const body = JSON.parse(r.body) as { commandId: string, state: string }
    const id = String(r.headers['webhook-id'])
    const seen = ids.get(body.commandId) ?? new Set<string>()
    if (!seen.has(id)) {
      seen.add(id)
      states.set(body.commandId, [...(states.get(body.commandId) ?? []), body.state])
    }
    ids.set(body.commandId, seen)
  }
  return { ids, states, deliveries: requests.length }
}

/** Milliseconds with one decimal, for t.comment. */
export function ms (n: number | undefined): string { return n === undefined ? 'n/a' : `${n.toFixed(0)} ms` }

/** Percentile of a list of numbers (nearest rank). */
export function pct (values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!
}
