// `npm run bench`: the ceiling and the broker side by side on this machine, medians over several runs,
// written to bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startBrokerProcess } from '../src/bench/broker-process.js'
import { CallbackWaiters } from '../src/bench/callback-waiters.js'
import { cpuLayout, pinSelf, type CpuLayout } from '../src/bench/cpu-pinning.js'
import { BENCH_TLS } from '../src/bench/http-client.js'
import { runLoad } from '../src/bench/load-run.js'
import { startReceiver } from '../src/bench/receiver.js'
import { startPrivateCluster, type PrivateCluster } from '../src/bench/redis-cluster.js'
import { startPrivateRedis, type PrivateRedis } from '../src/bench/redis-server.js'
import type { RunResult } from '../src/bench/result.js'
import { median, round } from '../src/bench/stats.js'
import { startCeiling } from './ceiling-process.js'
import { measureExpiry } from './expiry.js'
import { machineInfo, waitForQuiet } from './machine.js'
import { measurePending } from './pending.js'
import { measureRedisCost } from './redis-cost.js'
import { measureBusyBoxListing, measureTimeoutBurst } from './script-time.js'
import { measureWaitingDevices } from './waiting-devices.js'
import type { Measured, Row, RowName, SuiteResult, ThroughputRow, UnavailableRow } from './suite-types.js'
import { checkTargets, clusterRatios, cpuRatios, formatTable, ratios } from './table.js'

/** Other processes may use this many cores before a run starts; above it the run waits (up to --quiet-wait). */
const QUIET_CORES = 0.25
/** A run during which other processes used more than this many cores is repeated. */
const CONTENDED_CORES = 0.3
const MAX_RETRIES = 1

/** Overrides every broker under test gets besides the store: callbacks must not be the bottleneck. */
/** `HERMOD_BENCH_SET='{"server.front-process":"false"}'` adds overrides (an A/B of one setting). */
const BROKER_OVERRIDES: Record<string, string> = {
  'broker.callbacks.concurrency': '256',
  'broker.callbacks.per-client-concurrency': '256',
  ...(process.env.HERMOD_BENCH_SET === undefined ? {} : JSON.parse(process.env.HERMOD_BENCH_SET) as Record<string, string>)
}
/** On the cluster rows besides: callbacks over 8 queue shards, as docs/configuration.md recommends for a Cluster. */
const CLUSTER_QUEUE_SHARDS = '8'

/** `cluster`: the Redis store on the private 6-node Redis Cluster. */
type Store = 'memory' | 'redis' | 'cluster'
/** The Redis servers of a run: the private standalone one and the private cluster (each absent when it could not start). */
interface Servers { redis?: PrivateRedis, cluster?: PrivateCluster }
/** The rows run on the private Redis Cluster. */
const CLUSTER_ROWS = ['acceptCluster', 'roundTripCluster'] as const
type Kind = 'ceiling' | 'accept' | 'roundtrip' | 'autoanswer'
interface Settings {
  layout: CpuLayout | null
  only?: Set<string>
  quietWaitS: number
  runs: number
  durationS: number
  warmupS: number
  fixedRateWarmupS: number
  connections: number
  pendingCommands: number
  expiryCommands: number
  expiryWindowS: number
  out: string
  quick: boolean
}

function settingsFrom (argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      commands: { type: 'string' },
      'quiet-wait': { type: 'string' },
      only: { type: 'string' },
      pin: { type: 'string' },
      out: { type: 'string' }
    }
  })
  const quick = values.quick === true
  const int = (text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${text}"`)
    return n
  }
  const commands = int(values.commands, quick ? 10_000 : 100_000)
  if (values.pin !== undefined && values.pin !== 'auto' && values.pin !== 'off') throw new Error('--pin is auto or off')
  return {
    layout: values.pin === 'off' ? null : cpuLayout(),
    quick,
    ...(values.only === undefined ? {} : { only: new Set(values.only.split(',').map((name) => name.trim())) }),
    quietWaitS: values['quiet-wait'] === '0' ? 0 : int(values['quiet-wait'], 60),
    runs: int(values.runs, quick ? 1 : 3),
    durationS: int(values.duration, quick ? 3 : 10),
    warmupS: quick ? 1 : 2,
    fixedRateWarmupS: quick ? 2 : 5,
    connections: int(values.connections, 32),
    pendingCommands: commands,
    expiryCommands: commands,
    expiryWindowS: quick ? 10 : 40,
    out: values.out ?? fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './results/latest.json' : '../../bench/results/latest.json', import.meta.url)),
  }
}

/** `{ cpus }` for a server process under the layout, or nothing. */
const cpusOf = (s: Settings): { cpus?: string } => s.layout === null ? {} : { cpus: s.layout.server }

const log = (text: string): void => { process.stderr.write(`${text}\n`) }
const unavailable = (err: unknown): UnavailableRow => ({ status: 'unavailable', error: (err as Error).message ?? String(err) })

/** One measured run of `kind` against a fresh server (ceiling process or broker process). */
async function oneRun (
  kind: Kind, store: Store | undefined, s: Settings, servers: Servers, rate?: number
): Promise<RunResult> {
  // Fixed-rate rows measure steady-state latency: a longer warm-up lets JIT tiers and heap sizing settle
  // (in the first seconds after start, with every thread on one core, single requests stall up to ~90 ms).
  const warmupS = rate === undefined ? s.warmupS : s.fixedRateWarmupS
  const load = {
    connections: s.connections,
    durationMs: s.durationS * 1000,
    maxOperations: 10_000_000,
    warmupMs: warmupS * 1000,
    ...(rate === undefined ? {} : { rate })
  }
  if (kind === 'ceiling') {
    const ceiling = await startCeiling([], s.layout?.server)
    try {
      return await runLoad({ ...load, target: { origin: ceiling.origin, prefix: '/hermod/rest', apiKey: 'none' }, scenario: 'accept', pids: { server: ceiling.pid }, label: 'ceiling' })
    } finally {
      await ceiling.stop()
    }
  }
  const redis = store === 'redis' ? servers.redis : undefined
  const cluster = store === 'cluster' ? servers.cluster : undefined
  if (store === 'redis' && redis === undefined) throw new Error('no redis-server to run against')
  if (store === 'cluster' && cluster === undefined) throw new Error('no Redis Cluster to run against')
  await redis?.flushAll()
  await cluster?.flushAll()
  const waiters = new CallbackWaiters()
  const receiver = await startReceiver({ onCallback: (cb) => waiters.deliver(cb) })
  try {
    const broker = await startBrokerProcess({
      store: store === 'cluster' ? 'redis' : store!,
      ...(redis === undefined ? {} : { redisUrl: redis.url }),
      callbackUrl: receiver.url,
      overrides: cluster === undefined
        ? BROKER_OVERRIDES
        : { ...BROKER_OVERRIDES, 'broker.redis.cluster.nodes': cluster.seeds, 'broker.callbacks.queue-shards': CLUSTER_QUEUE_SHARDS },
      ...cpusOf(s),
      autoAnswer: kind === 'autoanswer'
    })
    try {
      // On the cluster `redis` is the sum of its six nodes (masters and replicas).
      const redisPids = cluster === undefined ? redis?.pid : cluster.nodes.map((node) => node.pid)
      return await runLoad({ ...load, target: broker.target, scenario: kind, callbacks: waiters, store: store === 'cluster' ? 'redis' : store, pids: { broker: broker.pid, redis: redisPids }, label: `${kind} ${store}` })
    } finally {
      await broker.stop()
    }
  } finally {
    await receiver.close()
  }
}

/** Medians of a row's runs: over the undisturbed runs (others <= CONTENDED_CORES) when there are any, else over all. */
function summarize (all: ThroughputRow['runs'], roundTrips: boolean, rate?: number): ThroughputRow {
  const clean = all.filter((r) => (r.cpu.others ?? 0) <= CONTENDED_CORES)
  const runs = clean.length > 0 ? clean : all
  const part = (r: RunResult): NonNullable<RunResult['roundTrips']> => roundTrips ? r.roundTrips! : r.accepted
  const lat = (pick: (r: RunResult) => NonNullable<RunResult['roundTrips']>): ThroughputRow['latencyMs'] => ({
    p50: median(runs.map((r) => pick(r).latencyMs.p50)),
    p90: median(runs.map((r) => pick(r).latencyMs.p90)),
    p99: median(runs.map((r) => pick(r).latencyMs.p99))
  })
  const names = new Set(runs.flatMap((r) => Object.keys(r.cpu)))
  const medianOf = (pick: (r: RunResult) => Record<string, number | null>): Record<string, number | null> =>
    Object.fromEntries([...names]
      .filter((n) => n in pick(runs[0]!))
      .map((n) => [n, round(median(runs.map((r) => pick(r)[n] ?? Number.NaN)), 2)]))
  return {
    status: 'ok',
    perSecond: median(runs.map((r) => part(r).perSecond)),
    latencyMs: lat(part),
    ...(roundTrips ? { acceptLatencyMs: lat((r) => r.accepted) } : {}),
    ...(rate === undefined ? {} : { rate }),
    cpu: medianOf((r) => r.cpu),
    cpuUsPerOperation: medianOf((r) => r.cpuUsPerOperation),
    errors: all.reduce((sum, r) => sum + r.errors.total, 0),
    medianOf: clean.length > 0 ? 'undisturbed runs' : 'all runs (every run shared the CPUs with other work)',
    disturbedRuns: all.length - clean.length,
    runs: all
  }
}

const skipped = (): UnavailableRow => ({ status: 'skipped', error: 'not selected (--only)' })

/** Runs `rows` round-robin, `s.runs` times each, so every row sees the machine in the same states. */
async function interleaved (
  rows: Array<{ name: string, kind: Kind, store?: Store, rate?: number }>, s: Settings, servers: Servers
): Promise<Map<string, Row<ThroughputRow>>> {
  const runs = new Map<string, ThroughputRow['runs']>(rows.map((r) => [r.name, []]))
  const notSelected = rows.filter((r) => s.only !== undefined && !s.only.has(r.name))
  const failed = new Map<string, UnavailableRow>(notSelected.map((r) => [r.name, skipped()]))
  for (let round = 1; round <= s.runs; round++) {
    for (const row of rows) {
      if (failed.has(row.name)) continue
      const background = await waitForQuiet(QUIET_CORES, s.quietWaitS * 1000)
      log(`[${round}/${s.runs}] ${row.name}${row.rate === undefined ? '' : ` at ${row.rate}/s`} (background load ${background ?? '?'} cores)`)
      try {
        let result = await oneRun(row.kind, row.store, s, servers, row.rate)
        // Other work took CPU during the run: measure again (once), keep the less disturbed run.
        for (let retry = 0; retry < MAX_RETRIES && (result.cpu.others ?? 0) > CONTENDED_CORES; retry++) {
          log(`    other processes used ${result.cpu.others} cores during the run: again`)
          await waitForQuiet(QUIET_CORES, s.quietWaitS * 1000)
          const again = await oneRun(row.kind, row.store, s, servers, row.rate)
          if ((again.cpu.others ?? 0) < (result.cpu.others ?? 0)) result = again
        }
        runs.get(row.name)!.push({ ...result, backgroundCores: background })
        const main = row.kind === 'roundtrip' || row.kind === 'autoanswer' ? result.roundTrips! : result.accepted
        log(`    ${main.perSecond}/s p50 ${main.latencyMs.p50} ms p99 ${main.latencyMs.p99} ms errors ${result.errors.total} cpu ${JSON.stringify(result.cpu)} us/op ${JSON.stringify(result.cpuUsPerOperation)}`)
      } catch (err) {
        failed.set(row.name, unavailable(err))
        log(`    unavailable: ${(err as Error).message}`)
      }
    }
  }
  return new Map(rows.map((r) => [r.name, failed.get(r.name) ?? summarize(runs.get(r.name)!, r.kind === 'roundtrip' || r.kind === 'autoanswer', r.rate)]))
}

/** One single-run row (pending memory, expiry), unless left out; a failure makes it unavailable, not the suite. */
async function guarded<T extends { cpu: Record<string, number | null> }> (
  name: RowName, s: Settings, measure: () => Promise<T>
): Promise<(T & Measured) | UnavailableRow> {
  if (s.only !== undefined && !s.only.has(name)) return skipped()
  let background = await waitForQuiet(QUIET_CORES, s.quietWaitS * 1000)
  log(`${name} (background load ${background ?? '?'} cores) ...`)
  try {
    let result = await measure()
    log(`    ${JSON.stringify(result).slice(0, 400)}`)
    if ((result.cpu.others ?? 0) > CONTENDED_CORES) {
      log(`    other processes used ${result.cpu.others} cores meanwhile: again`)
      background = await waitForQuiet(QUIET_CORES, s.quietWaitS * 1000)
      const again = await measure()
      log(`    ${JSON.stringify(again).slice(0, 400)}`)
      if ((again.cpu.others ?? 0) < (result.cpu.others ?? 0)) result = again
    }
    return { ...result, backgroundCores: background }
  } catch (err) {
    log(`    unavailable: ${(err as Error).message}`)
    return unavailable(err)
  }
}

async function main (): Promise<void> {
  const s = settingsFrom(process.argv.slice(2))
  const startedAt = new Date().toISOString()
  const machine = machineInfo()
  log(`hermod-broker bench${s.quick ? ' (quick)' : ''}: ${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}, redis-server ${machine.redis ?? 'missing'}`)
  if (s.layout !== null && !pinSelf(s.layout.client)) s.layout = null
  log(s.layout === null ? 'processes not pinned to CPUs' : `CPUs: load generator ${s.layout.client}, server under test ${s.layout.server}, redis-server ${s.layout.redis}`)
  let redis: PrivateRedis | undefined
  let redisError: UnavailableRow | undefined
  try {
    redis = await startPrivateRedis(s.layout === null ? {} : { cpus: s.layout.redis })
    log(`private redis-server on ${redis.url}`)
  } catch (err) {
    redisError = unavailable(err)
  }
  // The cluster only when a cluster row runs: six more redis-servers are not free on a small machine.
  let cluster: PrivateCluster | undefined
  let clusterError: UnavailableRow | undefined
  if (s.only === undefined || CLUSTER_ROWS.some((name) => s.only!.has(name))) {
    try {
      cluster = await startPrivateCluster(s.layout === null ? {} : { cpus: s.layout.redis })
      log(`private Redis Cluster (3 masters, 3 replicas) on ${cluster.seeds}`)
    } catch (err) {
      clusterError = unavailable(err)
      log(`no Redis Cluster: ${clusterError.error}`)
    }
  }
  const servers: Servers = { ...(redis === undefined ? {} : { redis }), ...(cluster === undefined ? {} : { cluster }) }
  try {
    const throughput = await interleaved([
      { name: 'ceiling', kind: 'ceiling' },
      { name: 'acceptMemory', kind: 'accept', store: 'memory' },
      { name: 'acceptRedis', kind: 'accept', store: 'redis' },
      { name: 'roundTripMemory', kind: 'roundtrip', store: 'memory' },
      { name: 'roundTripRedis', kind: 'roundtrip', store: 'redis' },
      { name: 'autoAnswerMemory', kind: 'autoanswer', store: 'memory' },
      { name: 'autoAnswerRedis', kind: 'autoanswer', store: 'redis' },
      { name: 'acceptCluster', kind: 'accept', store: 'cluster' },
      { name: 'roundTripCluster', kind: 'roundtrip', store: 'cluster' }
    ], s, servers)
    // Rows whose server could not start say why (like the Redis rows' "redis-server is not installed").
    for (const name of CLUSTER_ROWS) {
      if (clusterError !== undefined && throughput.get(name)?.status !== 'skipped') throughput.set(name, clusterError)
    }
    // Half the maximum rate of the same store's accept row, which must have been measured.
    interface HalfRateRow { name: string, kind: Kind, store: Store, rate: number }
    const half = (name: RowName, source: RowName, store: Store): HalfRateRow | UnavailableRow => {
      const row = throughput.get(source)!
      if (s.only !== undefined && !s.only.has(name)) return skipped()
      if (row.status !== 'ok') return { status: 'unavailable', error: `needs ${source}: ${(row as UnavailableRow).error}` }
      return { name, kind: 'accept', store, rate: Math.max(1, Math.round((row as ThroughputRow).perSecond / 2)) }
    }
    const halfRows = { halfRateMemory: half('halfRateMemory', 'acceptMemory', 'memory'), halfRateRedis: half('halfRateRedis', 'acceptRedis', 'redis') }
    const halfRate = await interleaved(Object.values(halfRows).filter((r): r is HalfRateRow => 'rate' in r), s, servers)
    const halfRow = (name: 'halfRateMemory' | 'halfRateRedis'): Row<ThroughputRow> => halfRate.get(name) ?? halfRows[name] as UnavailableRow

    const pendingMemory = await guarded('pendingMemory', s, async () => await measurePending({ store: 'memory', commands: s.pendingCommands, connections: s.connections, overrides: BROKER_OVERRIDES, ...cpusOf(s) }))
    const pendingRedis = redis === undefined ? redisError! : await guarded('pendingRedis', s, async () => await measurePending({ store: 'redis', redis, commands: s.pendingCommands, connections: s.connections, overrides: BROKER_OVERRIDES, ...cpusOf(s) }))
    const expiry = async (name: 'expiryMemory' | 'expiryRedis', store: 'memory' | 'redis', redisServer?: PrivateRedis): Promise<SuiteResult['rows']['expiryMemory']> =>
      await guarded(name, s, async () => await measureExpiry({
        store,
        ...(redisServer === undefined ? {} : { redis: redisServer }),
        commands: s.expiryCommands,
        windowS: s.expiryWindowS,
        graceS: 30,
        connections: s.connections,
        overrides: BROKER_OVERRIDES,
        ...cpusOf(s)
      }))
    const expiryMemory = await expiry('expiryMemory', 'memory')
    const expiryRedis = redis === undefined ? redisError! : await expiry('expiryRedis', 'redis', redis)
    // Issue 8's sizes: 4,000 decided 4 KB messages in one named box; 40 commands of 1 MiB due at once (--quick: a quarter).
    const listBusyBoxRedis = redis === undefined ? redisError! : await guarded('listBusyBoxRedis', s, async () => await measureBusyBoxListing(redis, { decided: s.quick ? 1_000 : 4_000, pending: 3, payloadBytes: 4096 }))
    const timeoutBurstRedis = redis === undefined ? redisError! : await guarded('timeoutBurstRedis', s, async () => await measureTimeoutBurst(redis, { commands: s.quick ? 10 : 40, payloadBytes: 1 << 20 }))
    // Each operation alone, INFO commandstats and redis-server's CPU (bench/redis-cost.ts; `npm run bench:redis-cost` runs only this).
    const redisCostRedis = redis === undefined ? redisError! : await guarded('redisCostRedis', s, async () => await measureRedisCost(redis, { count: s.quick ? 5_000 : 20_000 }))
    // Issue 11: 10,000 concurrent long polls on one instance (each a socket here and in the broker: mind ulimit -n).
    const waiting = { devices: s.quick ? 2_000 : 10_000, overrides: BROKER_OVERRIDES, ...cpusOf(s) }
    const waitingDevicesMemory = await guarded('waitingDevicesMemory', s, async () => await measureWaitingDevices({ store: 'memory', ...waiting }))
    const waitingDevicesRedis = redis === undefined
      ? redisError!
      : await guarded('waitingDevicesRedis', s, async () => await measureWaitingDevices({ store: 'redis', redis, ...waiting }))

    const rows: SuiteResult['rows'] = {
      ceiling: throughput.get('ceiling')!,
      acceptMemory: throughput.get('acceptMemory')!,
      acceptRedis: throughput.get('acceptRedis')!,
      roundTripMemory: throughput.get('roundTripMemory')!,
      roundTripRedis: throughput.get('roundTripRedis')!,
      autoAnswerMemory: throughput.get('autoAnswerMemory')!,
      autoAnswerRedis: throughput.get('autoAnswerRedis')!,
      acceptCluster: throughput.get('acceptCluster')!,
      roundTripCluster: throughput.get('roundTripCluster')!,
      halfRateMemory: halfRow('halfRateMemory'),
      halfRateRedis: halfRow('halfRateRedis'),
      pendingMemory,
      pendingRedis,
      expiryMemory,
      expiryRedis,
      listBusyBoxRedis,
      timeoutBurstRedis,
      redisCostRedis,
      waitingDevicesMemory,
      waitingDevicesRedis
    }
    const ratio = ratios(rows)
    const result: SuiteResult = {
      version: 1,
      quick: s.quick,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      settings: {
        runs: s.runs,
        durationS: s.durationS,
        warmupS: s.warmupS,
        fixedRateWarmupS: s.fixedRateWarmupS,
        connections: s.connections,
        pendingCommands: s.pendingCommands,
        expiryCommands: s.expiryCommands,
        expiryWindowS: s.expiryWindowS,
        tls: `keep-alive, ${BENCH_TLS.minVersion}, no client certificate, verification off (self-signed EC P-256), HTTP/1.1 without pipelining`,
        brokerOverrides: { 'broker.log.level': 'warn', ...BROKER_OVERRIDES },
        cpuLayout: s.layout
      },
      rows,
      ratios: ratio,
      cpuRatios: cpuRatios(rows),
      clusterRatios: clusterRatios(rows),
      targets: checkTargets(rows, ratio)
    }
    mkdirSync(dirname(s.out), { recursive: true })
    writeFileSync(s.out, `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`\n${formatTable(result)}\n\nwritten to ${s.out}\n`)
  } finally {
    await redis?.stop()
    await cluster?.stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
