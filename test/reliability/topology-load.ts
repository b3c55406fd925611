// Load on 3 in-process brokers over a Redis topology (cluster, Sentinel) around a failure, and the checks that follow:
// acknowledged commands lost, callbacks (exactly one terminal event each, at least once with one webhook-id), recovery time.
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import type { ClientConfig, RedisConfig } from '../../src/config/types.js'
import { createBroker } from '../../src/server/broker.js'
import { startReceiver, type Receiver } from '../callbacks/helpers.js'
import { testConfig } from '../helpers/config.js'
import { parseRedisNodes } from '../../src/config/build.js'
import type { RedisSentinelSet } from '../helpers/redis-sentinel.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { Api, acceptedFrom, runLoad, sleep, timeUntil, type Accepted } from './helpers.js'

/** Groups the load spreads over (on a cluster their hash tags land on different masters). */
/** The store's Redis config for a Sentinel set, on a fresh key prefix. */
export function sentinelConfig (set: RedisSentinelSet, waitReplicas: number, waitTimeoutMs: number): RedisConfig {
  return {
    url: 'redis://unused',
    prefix: freshPrefix(),
    options: {},
    waitReplicas,
    waitTimeoutMs,
    sentinel: { master: set.masterName, nodes: parseRedisNodes(set.sentinelNodes), failoverDetector: false }
  }
}

export const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5']

export interface TopologyBrokers {
  apis: Api[]
  receiver: Receiver
  keyOf: (group: string) => string
}

/**
 * Three brokers (all roles) on `redis`, one client per group, callbacks to a 200-answering receiver; returned once each
 * answers readiness 200 (its store and queue connected: on a loaded machine a TLS cluster takes seconds).
 */
export async function startBrokers (t: Test, redis: RedisConfig): Promise<TopologyBrokers> {
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const clients: ClientConfig[] = GROUPS.map((group) => ({
    clientId: `c-${group}`, key: randomBytes(32).toString('hex'), group, callbackMode: 'append', callbackUrl: `${receiver.url}/cb`
  }))
  const config = testConfig({
    allowedClients: clients,
    broker: { store: 'redis', redis, sweepIntervalMs: 50, callbacks: { attempts: 60, backoffBaseMs: 50, backoffMaxMs: 500 } }
  })
  const apis: Api[] = []
  for (let i = 0; i < 3; i++) {
    const broker = await createBroker(config)
    await broker.app.listen({ port: 0, host: '127.0.0.1' })
    broker.start()
    const api = new Api(`http://127.0.0.1:${(broker.app.server.address() as { port: number }).port}`, { timeoutMs: 15_000 })
    t.teardown(async () => { await api.close(); await broker.close() })
    apis.push(api)
  }
  for (const [i, api] of apis.entries()) {
    const ready = await timeUntil(async () => (await api.health('/readiness')).status === 200, 30_000, 100)
    if (ready === undefined) throw new Error(`broker ${i}: readiness not 200 within 30 s: ${JSON.stringify((await api.health('/readiness')).json)}`)
  }
  const keys = new Map(clients.map((c) => [c.group, apiKeyHeader(c.clientId, c.key)]))
  return { apis, receiver, keyOf: (group) => keys.get(group)! }
}

export interface ScenarioReport {
  accepted: number
  /** 2xx accepts whose command is unknown afterwards. */
  lost: string[]
  /** Accept answers other than 2xx and 503 (must stay empty). */
  unexpected: string[]
  /** ms from the failure until the last failing accept was answered, 0 when none failed. */
  failingForMs: number
  /** Commands without a callback, with more than one state, or with more than one webhook-id (must stay empty). */
  wrongCallbacks: string[]
  /** Callbacks delivered more than once (same webhook-id: allowed, at least once). */
  redelivered: number
}

/**
 * Runs accepts (a third of them answered by a device through another instance, the rest timing out
 * after 1 s) on all three brokers for `warmupMs`, calls `fail()`, goes on until accepts of every group
 * succeed again for a second (bounded by `maxMs`), waits for `settle()`, then checks every acknowledged command.
 */
export async function failureScenario (
  t: Test, brokers: TopologyBrokers, fail: (() => Promise<void>) | undefined,
  o: { warmupMs: number, maxMs: number, settle?: () => Promise<void> }
): Promise<ScenarioReport> {
  const { apis, receiver, keyOf } = brokers
  const accepted: Array<Accepted & { group: string }> = []
  const unexpected: string[] = []
  const failures: number[] = []
  let failedAt: number | undefined
  let okSinceFailure = new Set<string>()
  const load = runLoad({ workers: 6, maxIterations: 5_000, maxMs: o.maxMs }, async (i, worker) => {
    const group = GROUPS[worker % GROUPS.length]!
    const api = apis[i % 3]!
    const sent = await api.post('authenticate', { commandHeader: { timeout: 1, lifespan: 120 }, authCommand: { i } }, keyOf(group))
    if (sent.status === 200) {
      const command = { ...acceptedFrom(sent), group }
      accepted.push(command)
      if (failedAt !== undefined && sent.sentAt > (failures.at(-1) ?? failedAt)) okSinceFailure.add(group)
      if (i % 3 === 0) {
        const d = command.destinations[0]!
        await apis[(i + 1) % 3]!.answer(d.bid, d.mid, 'OK', { i })
      }
    } else if (sent.status === 503) {
      failures.push(sent.doneAt)
      okSinceFailure = new Set()
    } else {
      unexpected.push(`${sent.status ?? sent.error} ${JSON.stringify(sent.json)?.slice(0, 200)}`)
      await sleep(50)
    }
  })
  await sleep(o.warmupMs)
  if (fail !== undefined) {
    failedAt = performance.now()
    await fail()
    while (okSinceFailure.size < GROUPS.length && performance.now() - failedAt < o.maxMs) await sleep(100)
    await sleep(1000)
  }
  load.stop()
  await load.done
  const lastFailure = failedAt === undefined ? undefined : failures.filter((at) => at >= failedAt!).at(-1)
  // A demoted master drops what it took after the promotion only when it resyncs: check after that.
  await o.settle?.()

  // Every acknowledged command: still known (status via any instance, retried while the store recovers).
  const lost: string[] = []
  for (const [n, command] of accepted.entries()) {
    for (let attempt = 0; ; attempt++) {
      const status = await apis[n % 3]!.status(command.commandId, keyOf(command.group))
      if (status.status === 200) break
      if (status.status === 404) { lost.push(command.commandId); break }
      if (attempt > 100) { unexpected.push(`status ${status.status ?? status.error} for ${command.commandId}`); break }
      await sleep(100)
    }
  }
  // Callbacks: each surviving command at least once, one state, one webhook-id.
  const expected = accepted.filter((c) => !lost.includes(c.commandId))
  const deadline = performance.now() + 40_000
  const seen = (): Set<string> => new Set(receiver.requests.map((r) => JSON.parse(r.body).commandId as string))
  while (performance.now() < deadline && !expected.every((c) => seen().has(c.commandId))) await sleep(200)
  await sleep(500)
  const byCommand = new Map<string, Array<{ state: string, id: string }>>()
  for (const r of receiver.requests) {
    const body = JSON.parse(r.body)
    byCommand.set(body.commandId, [...(byCommand.get(body.commandId) ?? []), { state: body.state, id: String(r.headers['webhook-id']) }])
  }
  const wrongCallbacks = expected.filter((c) => {
    const got = byCommand.get(c.commandId) ?? []
    return got.length === 0 || new Set(got.map((g) => g.state)).size !== 1 || new Set(got.map((g) => g.id)).size !== 1
  }).map((c) => `${c.commandId}: ${JSON.stringify(byCommand.get(c.commandId) ?? [])}`)
  const redelivered = [...byCommand.values()].reduce((sum, got) => sum + got.length - 1, 0)
  receiver.requests.length = 0
  const report: ScenarioReport = {
    accepted: accepted.length,
    lost,
    unexpected,
    failingForMs: lastFailure === undefined || failedAt === undefined ? 0 : Math.round(lastFailure - failedAt),
    wrongCallbacks,
    redelivered
  }
  t.comment(`accepted ${report.accepted}, lost ${lost.length}, accepts failing for ${report.failingForMs} ms after the failure, ` +
    `callbacks redelivered ${redelivered}, unexpected answers ${unexpected.length}`)
  return report
}
