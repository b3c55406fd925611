// Ratios against the ceiling, the issue's targets, and the Markdown table `npm run bench` prints.
import type { RedisCostResult } from './redis-cost.js'
import type { Measured, Row, RowName, SuiteResult, TargetCheck, ThroughputRow, UnavailableRow } from './suite-types.js'

type Rows = SuiteResult['rows']

const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (n: number): string => `${num(n, n < 10 ? 2 : 1)} ms`
const bytes = (n: number): string => n >= 2 ** 20 ? `${num(n / 2 ** 20, 1)} MiB` : `${num(n)} B`

function ok<T extends { status: string }> (row: T | UnavailableRow | undefined): T | undefined {
  return row?.status === 'ok' ? row as T : undefined
}

/** perSecond / the ceiling's, for every throughput row (null when either is missing). */
export function ratios (rows: Rows): Record<string, number | null> {
  const ceiling = ok<ThroughputRow>(rows.ceiling)?.perSecond
  const out: Record<string, number | null> = {}
  for (const name of ['ceiling', 'acceptMemory', 'acceptRedis', 'roundTripMemory', 'roundTripRedis', 'autoAnswerMemory', 'autoAnswerRedis', 'acceptCluster', 'roundTripCluster'] as const) {
    if (rows[name] === undefined) continue // a result from before the row existed
    const row = ok<ThroughputRow>(rows[name])
    out[name] = row === undefined || ceiling === undefined || ceiling === 0 ? null : Math.round(row.perSecond / ceiling * 1000) / 1000
  }
  return out
}

/** Ceiling server CPU per request / the row's broker CPU per operation (throughput rows). */
export function cpuRatios (rows: Rows): Record<string, number | null> {
  const ceiling = ok<ThroughputRow>(rows.ceiling)?.cpuUsPerOperation.server
  const out: Record<string, number | null> = {}
  for (const name of ['acceptMemory', 'acceptRedis', 'roundTripMemory', 'roundTripRedis', 'autoAnswerMemory', 'autoAnswerRedis', 'acceptCluster', 'roundTripCluster'] as const) {
    if (rows[name] === undefined) continue
    const broker = ok<ThroughputRow>(rows[name])?.cpuUsPerOperation.broker
    const known = broker !== undefined && broker !== null && ceiling !== undefined && ceiling !== null && broker !== 0
    out[name] = known ? Math.round(ceiling / broker * 1000) / 1000 : null
  }
  return out
}

/** The cluster rows against the standalone Redis rows of the same run: perSecond ratios (null when either is missing). */
export function clusterRatios (rows: Rows): Record<'acceptCluster' | 'roundTripCluster', number | null> {
  const ratio = (cluster: RowName, standalone: RowName): number | null => {
    const c = ok<ThroughputRow>(rows[cluster] as Row<ThroughputRow> | undefined)
    const r = ok<ThroughputRow>(rows[standalone] as Row<ThroughputRow> | undefined)
    return c === undefined || r === undefined || r.perSecond === 0 ? null : Math.round(c.perSecond / r.perSecond * 1000) / 1000
  }
  return { acceptCluster: ratio('acceptCluster', 'acceptRedis'), roundTripCluster: ratio('roundTripCluster', 'roundTripRedis') }
}

/** The targets of issue 4, checked against this run. */
export function checkTargets (rows: Rows, ratio: Record<string, number | null>): TargetCheck[] {
  const atLeast = (id: string, description: string, value: number | null, limit: number): TargetCheck =>
    ({ id, description, value, unit: 'x ceiling', limit: `>= ${limit}`, holds: value === null ? null : value >= limit })
  const below = (id: string, description: string, value: number | null | undefined, limit: number, unit: string): TargetCheck =>
    ({ id, description, value: value ?? null, unit, limit: `< ${limit}`, holds: value === null || value === undefined ? null : value < limit })
  const pending = ok(rows.pendingRedis)
  const overhead = pending?.redisOverheadBytesPerCommand ?? null
  return [
    atLeast('accept-redis', 'accept, Redis store', ratio.acceptRedis ?? null, 0.5),
    atLeast('accept-memory', 'accept, embedded store', ratio.acceptMemory ?? null, 0.8),
    atLeast('roundtrip-redis', 'round trips/s, Redis store', ratio.roundTripRedis ?? null, 0.1),
    below('half-rate-p99-redis', 'accept p99 at half the maximum rate, Redis store', ok(rows.halfRateRedis)?.latencyMs.p99, 10, 'ms'),
    below('half-rate-p99-memory', 'accept p99 at half the maximum rate, embedded store', ok(rows.halfRateMemory)?.latencyMs.p99, 10, 'ms'),
    below('expiry-p99-redis', 'deadline -> TIMEOUT callback p99, Redis store', ok(rows.expiryRedis)?.delayMs.p99, 1000, 'ms'),
    below('expiry-p99-memory', 'deadline -> TIMEOUT callback p99, embedded store', ok(rows.expiryMemory)?.delayMs.p99, 1000, 'ms'),
    below('redis-cpu-per-accept', 'Redis CPU per accept (private redis-server, accepts alone)', costOf(rows, 'accept')?.processUs, 40, 'µs'),
    { id: 'redis-bytes-per-pending', description: 'Redis memory per pending command beyond its payload', value: overhead, unit: 'B', limit: '<= 600', holds: overhead === null ? null : overhead <= 600 }
  ]
}

/** One operation's cost in the Redis cost row, when measured. */
function costOf (rows: Rows, operation: string): RedisCostResult['operations'][number] | undefined {
  return costRow(rows)?.operations.find((op) => op.operation === operation)
}

function costRow (rows: Rows): (RedisCostResult & Measured) | undefined {
  return rows.redisCostRedis === undefined ? undefined : ok<RedisCostResult & Measured>(rows.redisCostRedis)
}

function throughputCell (row: ThroughputRow, unit: string): string {
  const server = row.cpuUsPerOperation.server ?? row.cpuUsPerOperation.broker
  return `${num(row.perSecond)} ${unit}; p50 ${ms(row.latencyMs.p50)}, p99 ${ms(row.latencyMs.p99)}${server === undefined || server === null ? '' : `; ${num(server)} µs CPU each`}${disturbed(row)}`
}

/** A note when other work shared the CPUs: every run of a row, or a single-run row. */
function disturbed (
  row: { medianOf?: string, disturbedRuns?: number, runs?: unknown[], cpu?: Record<string, number | null>, errors?: unknown }
): string {
  if (row.runs !== undefined && row.runs.length > 0 && row.disturbedRuns === row.runs.length) return ' (every run disturbed by other work)'
  if (row.runs === undefined && (row.cpu?.others ?? 0) > 0.3) return ` (disturbed: other work used ${row.cpu!.others} cores)`
  return ''
}

function errorNote (errors: { total: number, byKind: Record<string, number> }): string {
  return errors.total === 0 ? '' : `; ${num(errors.total)} errors (${Object.entries(errors.byKind).map(([k, n]) => `${k}: ${n}`).join(', ')})`
}

const LABELS: Record<RowName, string> = {
  ceiling: 'Ceiling: bare Fastify HTTPS route, same TLS, same JSON in and out',
  acceptMemory: 'Accept, embedded store',
  acceptRedis: 'Accept, Redis store',
  roundTripMemory: 'Round trips (accept, read, answer, callback), embedded store',
  roundTripRedis: 'Round trips (accept, read, answer, callback), Redis store',
  autoAnswerMemory: 'Round trips answered by auto-answer (accept, callback), embedded store',
  autoAnswerRedis: 'Round trips answered by auto-answer (accept, callback), Redis store',
  acceptCluster: 'Accept, Redis store on a 6-node Redis Cluster (3 masters, 3 replicas, callback queue-shards 8)',
  roundTripCluster: 'Round trips (accept, read, answer, callback), Redis store on the 6-node Redis Cluster',
  halfRateMemory: 'Accept latency at half the maximum rate, embedded store',
  halfRateRedis: 'Accept latency at half the maximum rate, Redis store',
  pendingMemory: 'Memory per pending command, embedded store',
  pendingRedis: 'Memory per pending command, Redis store',
  expiryMemory: 'Expiry: deadline to TIMEOUT callback, embedded store',
  expiryRedis: 'Expiry: deadline to TIMEOUT callback, Redis store',
  listBusyBoxRedis: 'Redis script time: one listing of a busy named box',
  timeoutBurstRedis: 'Redis script time: a timeout burst of large commands',
  redisCostRedis: 'Redis CPU per operation, each alone (µs; ops/s one shard sustains at 100 % CPU)',
  waitingDevicesMemory: 'Waiting devices (concurrent long polls), embedded store',
  waitingDevicesRedis: 'Waiting devices (concurrent long polls), Redis store'
}

const TARGET_OF: Partial<Record<RowName, string>> = {
  acceptMemory: 'accept-memory',
  acceptRedis: 'accept-redis',
  roundTripRedis: 'roundtrip-redis',
  halfRateMemory: 'half-rate-p99-memory',
  halfRateRedis: 'half-rate-p99-redis',
  pendingRedis: 'redis-bytes-per-pending',
  expiryMemory: 'expiry-p99-memory',
  expiryRedis: 'expiry-p99-redis',
  redisCostRedis: 'redis-cpu-per-accept'
}

function cell (name: RowName, rows: Rows): string {
  const row = rows[name] ?? { status: 'unavailable', error: 'not in this result' }
  if (row.status !== 'ok') return `${row.status}: ${(row as UnavailableRow).error.replace(/\|/g, '/').slice(0, 160)}`
  switch (name) {
    case 'ceiling': return throughputCell(row as ThroughputRow, 'req/s')
    case 'acceptMemory': case 'acceptRedis': return throughputCell(row as ThroughputRow, 'commands/s')
    case 'roundTripMemory': case 'roundTripRedis': case 'autoAnswerMemory': case 'autoAnswerRedis': return throughputCell(row as ThroughputRow, 'round trips/s')
    case 'acceptCluster': case 'roundTripCluster': {
      const r = row as ThroughputRow
      const standalone = clusterRatios(rows)[name]
      const redisUs = r.cpuUsPerOperation.redis
      return `${throughputCell(r, name === 'acceptCluster' ? 'commands/s' : 'round trips/s')}` +
        `${redisUs === undefined || redisUs === null ? '' : `; Redis (6 nodes) ${num(redisUs)} µs CPU each`}` +
        `${standalone === null ? '' : `; ${standalone.toFixed(2)} × the standalone Redis row`}`
    }
    case 'halfRateMemory': case 'halfRateRedis': {
      const r = row as ThroughputRow
      return `at ${num(r.rate ?? 0)}/s: p50 ${ms(r.latencyMs.p50)}, p90 ${ms(r.latencyMs.p90)}, p99 ${ms(r.latencyMs.p99)}${disturbed(r)}`
    }
    case 'pendingMemory': case 'pendingRedis': {
      const r = ok(rows[name])!
      const redis = r.redisBytesPerCommand === undefined || r.redisBytesPerCommand === null
        ? ''
        : `Redis ${bytes(r.redisBytesPerCommand)}/command (payload ${r.payloadBytes} B + ${bytes(r.redisOverheadBytesPerCommand ?? 0)}); `
      return `${redis}broker RSS ${r.rssBytesPer100k === null ? 'n/a' : bytes(r.rssBytesPer100k)} per 100k (${num(r.commands)} pending)${errorNote(r.errors)}${disturbed(r)}`
    }
    case 'expiryMemory': case 'expiryRedis': {
      const r = ok(rows[name])!
      return `${num(r.received)}/${num(r.commands)} deadlines over ${r.deadlineSpanS ?? '?'} s: p50 ${ms(r.delayMs.p50)}, p99 ${ms(r.delayMs.p99)} (sweep p99 ${ms(r.sweepDelayMs.p99)})${errorNote(r.errors)}${disturbed(r)}`
    }
    case 'listBusyBoxRedis': case 'timeoutBurstRedis': {
      const r = ok(rows[name])!
      return `${r.scenario}: longest script ${ms(r.longestScriptUs / 1000)}, ${num(r.scriptCalls)} script${r.scriptCalls === 1 ? '' : 's'} ${ms(r.totalScriptUs / 1000)} in all${disturbed(r)}`
    }
    case 'redisCostRedis': {
      const r = costRow(rows)!
      const perShard = (n: number | null): string => n === null ? '' : ` (${num(n)}/s)`
      return r.operations.map((op) => `${op.operation} ${op.processUs ?? `${op.scriptUs} script`}${perShard(op.perSecondPerShard)}`).join('; ') + disturbed(r)
    }
    case 'waitingDevicesMemory': case 'waitingDevicesRedis': {
      const r = ok(rows[name])!
      const left = r.leftAfterHangUp
      return `${num(r.devices)} polls${r.tls ? ' (TLS)' : ''}: broker RSS ${r.rssBytesPerDevice === null ? 'n/a' : bytes(r.rssBytesPerDevice)}/device; ` +
        `wake-up p50 ${ms(r.wakeMs.p50 ?? NaN)}, p99 ${ms(r.wakeMs.p99 ?? NaN)}; ${r.errors} errors; ` +
        `left after hang-up: ${left.waiting} waiting, ${left.boxesWatched} boxes, ${left.connectionsOpen} sockets${disturbed(r)}`
    }
  }
}

/** The Markdown table of a suite result. */
export function formatTable (result: SuiteResult): string {
  const targets = new Map(result.targets.map((t) => [t.id, t]))
  const lines = ['| Measure | Result (medians) | vs ceiling (CPU-normalised) | Target | Holds |', '|---|---|---|---|---|']
  for (const name of Object.keys(LABELS) as RowName[]) {
    const ratio = result.ratios[name]
    const cpu = result.cpuRatios?.[name]
    const target = TARGET_OF[name] === undefined ? undefined : targets.get(TARGET_OF[name]!)
    const limit = target === undefined ? '' : `${target.limit}${target.unit === 'x ceiling' ? '' : ` ${target.unit}`}`
    const holds = target === undefined ? '' : target.holds === null ? 'n/a' : target.holds ? 'yes' : '**no**'
    lines.push(`| ${LABELS[name]} | ${cell(name, result.rows)} | ${ratio === undefined || ratio === null ? '' : ratio.toFixed(2)}${cpu === undefined || cpu === null ? '' : ` (CPU ${cpu.toFixed(2)})`} | ${limit} | ${holds} |`)
  }
  return lines.join('\n')
}
