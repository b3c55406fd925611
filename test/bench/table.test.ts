// The suite's ratios, targets and table: unavailable rows (e.g. no Redis store yet) are reported, never a crash.
import t from 'tap'
import type { SuiteResult, ThroughputRow } from '../../bench/suite-types.js'
import { checkTargets, clusterRatios, cpuRatios, formatTable, ratios } from '../../bench/table.js'

const latency = { count: 1, mean: 1, min: 1, p50: 1, p90: 1, p99: 1, max: 1 }
function throughput (perSecond: number, p99 = 4, rate?: number, server: 'server' | 'broker' = 'broker', us = 100): ThroughputRow {
  return { status: 'ok', perSecond, latencyMs: { p50: 1, p90: 2, p99 }, cpu: { client: 0.5 }, cpuUsPerOperation: { client: 50, [server]: us }, errors: 0, medianOf: 'undisturbed runs', disturbedRuns: 0, runs: [], ...(rate === undefined ? {} : { rate }) }
}
const unavailable = { status: 'unavailable' as const, error: 'the broker exited (1) during start-up: hermod-broker: store "redis" | not available' }

function rows (): SuiteResult['rows'] {
  return {
    ceiling: throughput(10_000, 4, undefined, 'server', 80),
    acceptMemory: throughput(8_500),
    acceptRedis: unavailable,
    roundTripMemory: throughput(2_000),
    roundTripRedis: unavailable,
    autoAnswerMemory: throughput(4_000),
    autoAnswerRedis: unavailable,
    halfRateMemory: throughput(4_250, 12, 4_250),
    halfRateRedis: unavailable,
    pendingMemory: { status: 'ok', store: 'memory', commands: 100_000, payloadBytes: 503, rssBytesPer100k: 150 * 2 ** 20, rssBeforeBytes: 1, rssAfterBytes: 2, acceptSeconds: 10, errors: { total: 0, byKind: {} }, cpu: { client: 0.5, others: 0 }, backgroundCores: 0 },
    pendingRedis: unavailable,
    expiryMemory: { status: 'ok', store: 'memory', commands: 100_000, received: 100_000, duplicates: 0, otherStates: 0, deadlineSpanS: 40, acceptSeconds: 40, timeoutS: 45, delayMs: { ...latency, p50: 150, p99: 420 }, sweepDelayMs: latency, errors: { total: 0, byKind: {} }, cpu: { client: 0.5, others: 0 }, backgroundCores: 0.1 },
    expiryRedis: unavailable,
    listBusyBoxRedis: { status: 'ok', scenario: 'list a named box with 4000 answered messages', scriptCalls: 1, longestScriptUs: 90, totalScriptUs: 90, cpu: { redis: 0.1 }, backgroundCores: 0 },
    timeoutBurstRedis: unavailable,
    redisCostRedis: {
      status: 'ok',
      operations: [
        { operation: 'accept', scenario: 'accept', operations: 100, scripts: 1, scriptUs: 44.7, commandsInAll: 5, processUs: 46.5, perSecondPerShard: 21_505, commands: {} },
        { operation: 'list', scenario: 'list', operations: 100, scripts: 1, scriptUs: 19.6, commandsInAll: 4, processUs: null, perSecondPerShard: null, commands: {} }
      ],
      cpu: { redis: 0.5 },
      backgroundCores: 0
    },
    waitingDevicesMemory: {
      status: 'ok',
      store: 'memory',
      devices: 10_000,
      tls: false,
      rssBytesPerDevice: 5000,
      rssBeforeBytes: 1,
      rssWaitingBytes: 2,
      wakeMs: { p50: 10, p99: 40, max: 50 },
      errors: 0,
      leftAfterHangUp: { waiting: 0, boxesWatched: 0, connectionsOpen: 0 },
      openFilesLimit: '20000',
      cpu: {},
      backgroundCores: 0
    },
    waitingDevicesRedis: unavailable
  }
}

/** The rows with both Redis topologies measured: standalone and the 6-node cluster. */
function clusterRows (): SuiteResult['rows'] {
  return {
    ...rows(),
    acceptRedis: throughput(5_000),
    roundTripRedis: throughput(1_000),
    acceptCluster: { ...throughput(4_000), cpuUsPerOperation: { client: 50, broker: 125, redis: 90 } },
    roundTripCluster: { status: 'unavailable', error: 'redis-cli is not installed or not on PATH (apt-get install redis-tools)' }
  }
}

t.test('ratios against the ceiling, null where a row is unavailable', async (t) => {
  t.same(ratios(rows()), {
    ceiling: 1,
    acceptMemory: 0.85,
    acceptRedis: null,
    roundTripMemory: 0.2,
    roundTripRedis: null,
    autoAnswerMemory: 0.4,
    autoAnswerRedis: null
  })
  t.same(ratios({ ...rows(), ceiling: unavailable }).acceptMemory, null)
  t.match(ratios(clusterRows()), { acceptRedis: 0.5, acceptCluster: 0.4, roundTripCluster: null }, 'the cluster rows once they are in the result')
})

t.test('cluster rows against the standalone Redis rows of the same run', async (t) => {
  t.same(clusterRatios(clusterRows()), { acceptCluster: 0.8, roundTripCluster: null })
  t.same(clusterRatios(rows()), { acceptCluster: null, roundTripCluster: null }, 'results from before the rows')
  t.same(clusterRatios({ ...clusterRows(), acceptRedis: unavailable }), { acceptCluster: null, roundTripCluster: null }, 'no standalone row, no ratio')
})

t.test('CPU-normalised ratios: ceiling server CPU per request over broker CPU per operation', async (t) => {
  t.same(cpuRatios(rows()), {
    acceptMemory: 0.8, acceptRedis: null, roundTripMemory: 0.8, roundTripRedis: null, autoAnswerMemory: 0.8, autoAnswerRedis: null
  })
})

t.test('targets hold, fail, or are not measured', async (t) => {
  const r = rows()
  const targets = new Map(checkTargets(r, ratios(r)).map((c) => [c.id, c]))
  t.match(targets.get('accept-memory'), { value: 0.85, holds: true, limit: '>= 0.8' })
  t.match(targets.get('accept-redis'), { value: null, holds: null })
  t.match(targets.get('half-rate-p99-memory'), { value: 12, holds: false })
  t.match(targets.get('expiry-p99-memory'), { value: 420, holds: true })
  t.match(targets.get('redis-bytes-per-pending'), { value: null, holds: null })
  t.match(targets.get('redis-cpu-per-accept'), { value: 46.5, holds: false, limit: '< 40' })
  const { redisCostRedis: _left, ...older } = r
  t.match(checkTargets(older, ratios(older)).find((c) => c.id === 'redis-cpu-per-accept'), { value: null, holds: null }, 'results from before the row')
  const withRedis = { ...r, pendingRedis: { ...r.pendingMemory, store: 'redis' as const, redisBytesPerCommand: 1200, redisOverheadBytesPerCommand: 697 } }
  t.match(checkTargets(withRedis, ratios(withRedis)).find((c) => c.id === 'redis-bytes-per-pending'), { value: 697, holds: false })
})

t.test('the table names every row, shows unavailable ones with their error, and escapes pipes', async (t) => {
  const r = rows()
  const ratio = ratios(r)
  const table = formatTable({ rows: r, ratios: ratio, cpuRatios: cpuRatios(r), targets: checkTargets(r, ratio) } as SuiteResult)
  const lines = table.split('\n')
  t.equal(lines.length, 2 + 20, 'every row, the cluster ones "not in this result"')
  t.match(table, /\| Redis CPU per operation[^|]*\| accept 46\.5 \(21,505\/s\); list 19\.6 script \| {2}\| < 40 µs \| \*\*no\*\* \|/)
  t.match(table, /\| Waiting devices \(concurrent long polls\), embedded store \| 10,000 polls: broker RSS [^|]+\/device; wake-up p50 10\.0 ms, p99 40\.0 ms; 0 errors; left after hang-up: 0 waiting, 0 boxes, 0 sockets \|/)
  t.match(table, /\| Accept, embedded store \| 8,500 commands\/s; p50 1\.00 ms, p99 4\.00 ms; 100 µs CPU each \| 0\.85 \(CPU 0\.80\) \| >= 0\.8 \| yes \|/)
  t.match(table, /\| Ceiling[^|]*\| 10,000 req\/s; p50 1\.00 ms, p99 4\.00 ms; 80 µs CPU each \| 1\.00 \|/)
  t.match(table, /\| Accept, Redis store \| unavailable: the broker exited \(1\) during start-up: hermod-broker: store "redis" \/ not available \| {2}\| >= 0\.5 \| n\/a \|/)
  t.match(table, /at 4,250\/s: p50 1\.00 ms, p90 2\.00 ms, p99 12\.0 ms \| {2}\| < 10 ms \| \*\*no\*\* \|/)
  t.match(table, /broker RSS 150\.0 MiB per 100k \(100,000 pending\)/)
  t.match(table, /100,000\/100,000 deadlines over 40 s: p50 150\.0 ms, p99 420\.0 ms/)
  t.match(table, /\| Redis script time: one listing of a busy named box \| list a named box with 4000 answered messages: longest script 0\.09 ms, 1 script 0\.09 ms in all \|/)
  for (const line of lines) t.equal(line.split('|').length, 7, 'five cells on every line')
})

t.test('the table shows the cluster rows with Redis CPU of the six nodes and the ratio to the standalone row', async (t) => {
  const r = clusterRows()
  const ratio = ratios(r)
  const table = formatTable({ rows: r, ratios: ratio, cpuRatios: cpuRatios(r), targets: checkTargets(r, ratio) } as SuiteResult)
  t.match(table, /\| Accept, Redis store on a 6-node Redis Cluster[^|]*\| 4,000 commands\/s; p50 1\.00 ms, p99 4\.00 ms; 125 µs CPU each; Redis \(6 nodes\) 90 µs CPU each; 0\.80 × the standalone Redis row \| 0\.40 \(CPU 0\.64\) \|/)
  t.match(table, /\| Round trips[^|]*6-node Redis Cluster \| unavailable: redis-cli is not installed/)
  for (const line of table.split('\n')) t.equal(line.split('|').length, 7, 'five cells on every line')
})
