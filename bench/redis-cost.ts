// Redis CPU per operation: each store operation and BullMQ's per-callback work run alone against a private redis-server
// (or the masters of a private Redis Cluster), read from INFO commandstats (CONFIG RESETSTAT between operations) and from
// the server processes' CPU time.
import { Redis } from 'ioredis'
import { BullmqCallbackQueue } from '../src/callbacks/bullmq-queue.js'
import { parseRedisNodes } from '../src/config/build.js'
import type { CallbackConfig, RedisConfig } from '../src/config/types.js'
import { RedisMailboxStore } from '../src/mailbox/redis-store.js'
import type { AcceptRequest, CallbackEvent } from '../src/mailbox/types.js'
import { processCpuSeconds } from '../src/bench/process-stats.js'
import type { PrivateCluster } from '../src/bench/redis-cluster.js'
import type { PrivateRedis } from '../src/bench/redis-server.js'

/** One command's share of an operation (from `cmdstat_<name>`). */
export interface CommandCost {
  /** Calls per operation (commands run inside scripts are counted too, under their own name). */
  calls: number
  /** Microseconds of command execution per operation (Redis's own `usec`; a script's includes what it calls). */
  us: number
}

/** What one operation costs Redis. */
export interface OperationCost {
  operation: string
  /** What one operation is, in words. */
  scenario: string
  operations: number
  /** Scripts (EVALSHA, EVAL) per operation. */
  scripts: number
  /** Their execution time per operation (what they call included), µs: Redis's own `usec`, wall time inside the command. */
  scriptUs: number
  /** Commands per operation, those the scripts call included. */
  commandsInAll: number
  /** redis-server CPU time per operation (execution, parsing, network, event loop), µs; a cluster: the masters' sum; null without /proc. */
  processUs: number | null
  /** On a cluster: the replicas' CPU time per operation (applying the replication stream), µs. Both net of the idle CPU. */
  replicaUs?: number | null
  /** Operations per second one Redis shard sustains at 100 % of a core: 1e6 / processUs. */
  perSecondPerShard: number | null
  /** Per command name (`evalsha` for the store's scripts; `set`, `zadd`, ... inside scripts are listed as well). */
  commands: Record<string, CommandCost>
}

export interface RedisCostResult {
  status: 'ok'
  /** Cluster: the idle cores subtracted (masters, replicas). */
  idleCores?: { main: number, replicas: number }
  /** Where it was measured (absent in results from before the cluster run: one redis-server). */
  topology?: string
  operations: OperationCost[]
  cpu: Record<string, number | null>
}

/** What is measured: the store's connection settings, and the stats and CPU time of the nodes that do the work. */
export interface CostTarget {
  /** In words, for the result. */
  topology: string
  /** `broker.redis` of the store and BullMQ on it. */
  config: (prefix: string) => RedisConfig
  /** Callback queue shards (`broker.callbacks.queue-shards`). */
  queueShards: number
  flushAll: () => Promise<void>
  /** CONFIG RESETSTAT on every node measured. */
  resetStats: () => Promise<void>
  /** INFO commandstats of the measured nodes (the masters), summed per command. */
  commandStats: () => Promise<Map<string, { calls: number, usec: number }>>
  /** CPU seconds so far of the measured nodes together, and of the replicas (null: none, or no /proc). */
  cpuSeconds: () => { main: number | null, replicas: number | null }
  /**
   * Cores the measured nodes and the replicas use with nothing to do (a cluster's bus and replication pings: about
   * 0.02-0.05 cores for three masters), subtracted from each operation's CPU over its duration; 0 on one redis-server.
   */
  idleCores: { main: number, replicas: number }
  close: () => Promise<void>
}

/** CPU seconds of all of `pids` together; null when any is unreadable. */
function cpuOf (pids: number[]): number | null {
  let sum = 0
  for (const pid of pids) {
    const used = processCpuSeconds(pid)
    if (used === null) return null
    sum += used
  }
  return sum
}

/** One private redis-server. */
export function standaloneTarget (redis: PrivateRedis, topology = `one redis-server ${redis.version}`): CostTarget {
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  return {
    topology,
    config: (prefix) => ({ url: redis.url, prefix, options: {} }),
    queueShards: 1,
    flushAll: async () => { await redis.flushAll() },
    resetStats: async () => { await admin.config('RESETSTAT') },
    commandStats: async () => parseCommandStats(await admin.info('commandstats')),
    cpuSeconds: () => ({ main: processCpuSeconds(redis.pid), replicas: null }),
    idleCores: { main: 0, replicas: 0 },
    close: async () => { admin.disconnect() }
  }
}

/**
 * The private 6-node cluster: commandstats and CPU of its three masters summed (the replicas' CPU apart), the store
 * and BullMQ on it as a broker is (ioredis Cluster, callbacks over `queueShards` queues).
 */
export async function clusterTarget (cluster: PrivateCluster, queueShards = 8): Promise<CostTarget> {
  const masters = await cluster.masters()
  const replicas = cluster.nodes.filter((node) => !masters.includes(node))
  const admins = masters.map((node) => new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 1 }))
  const cpu = (): { main: number | null, replicas: number | null } =>
    ({ main: cpuOf(masters.map((n) => n.pid)), replicas: cpuOf(replicas.map((n) => n.pid)) })
  // The idle baseline, over 3 s with nothing sent (10 ms ticks: ±0.004 cores).
  const before = cpu()
  const idleStart = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  const after = cpu()
  const idleS = (performance.now() - idleStart) / 1000
  const idle = (a: number | null, b: number | null): number => a === null || b === null ? 0 : Math.max(0, (b - a) / idleS)
  return {
    topology: `Redis Cluster ${cluster.version}, 3 masters + 3 replicas (masters' commandstats and CPU summed), callback queue-shards ${queueShards}`,
    config: (prefix) => ({ url: 'redis://unused', prefix, options: {}, cluster: { nodes: parseRedisNodes(cluster.seeds), options: {} } }),
    queueShards,
    flushAll: async () => { await cluster.flushAll() },
    resetStats: async () => { await Promise.all(admins.map(async (admin) => await admin.config('RESETSTAT'))) },
    commandStats: async () => {
      const sum = new Map<string, { calls: number, usec: number }>()
      for (const admin of admins) {
        for (const [name, { calls, usec }] of parseCommandStats(await admin.info('commandstats'))) {
          const seen = sum.get(name) ?? { calls: 0, usec: 0 }
          sum.set(name, { calls: seen.calls + calls, usec: seen.usec + usec })
        }
      }
      return sum
    },
    cpuSeconds: cpu,
    idleCores: { main: idle(before.main, after.main), replicas: idle(before.replicas, after.replicas) },
    close: async () => { for (const admin of admins) admin.disconnect() }
  }
}

const T0 = Date.UTC(2026, 0, 1, 12)
/** About the bench's documented sign command body (503 bytes). */
const PAYLOAD = JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(420), mode: 'S', signatureType: 'JWS' } } })

const request = (over: Partial<AcceptRequest> = {}): AcceptRequest =>
  ({ type: 'sign', group: 'bench', clientId: 'bench', timeoutSeconds: 300, lifespanSeconds: 300, to: ['@tmp'], payload: PAYLOAD, ...over })

/** Parses INFO commandstats into name -> { calls, usec }. */
export function parseCommandStats (info: string): Map<string, { calls: number, usec: number }> {
  const out = new Map<string, { calls: number, usec: number }>()
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (match !== null) out.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) })
  }
  return out
}

/** Runs `fns` `concurrency` at a time (like requests arriving over several connections). */
async function inParallel (fns: Array<() => Promise<unknown>>, concurrency = 32): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, fns.length) }, async () => {
    while (next < fns.length) await fns[next++]!()
  }))
}

/** Resets the stats, runs `run`, and reads what `operations` operations cost. */
async function measure (
  target: CostTarget, operation: string, scenario: string, operations: number, run: () => Promise<void>
): Promise<OperationCost> {
  await target.resetStats()
  const cpuBefore = target.cpuSeconds()
  const started = performance.now()
  await run()
  const cpuAfter = target.cpuSeconds()
  const seconds = (performance.now() - started) / 1000
  const stats = await target.commandStats()
  stats.delete('config|resetstat')
  stats.delete('info')
  const commands: Record<string, CommandCost> = {}
  let all = 0
  for (const [name, { calls, usec }] of [...stats].sort((a, b) => b[1].usec - a[1].usec)) {
    commands[name] = { calls: round(calls / operations, 3), us: round(usec / operations, 2) }
    all += calls
  }
  const scripts = (stats.get('evalsha')?.calls ?? 0) + (stats.get('eval')?.calls ?? 0)
  const scriptUsec = (stats.get('evalsha')?.usec ?? 0) + (stats.get('eval')?.usec ?? 0)
  const perOperation = (before: number | null, after: number | null, idleCores: number): number | null =>
    before === null || after === null ? null : round((Math.max(0, after - before - idleCores * seconds) * 1e6) / operations, 1)
  const processUs = perOperation(cpuBefore.main, cpuAfter.main, target.idleCores.main)
  const replicaUs = perOperation(cpuBefore.replicas, cpuAfter.replicas, target.idleCores.replicas)
  const basis = processUs ?? 0
  return {
    operation,
    scenario,
    operations,
    scripts: round(scripts / operations, 3),
    scriptUs: round(scriptUsec / operations, 2),
    commandsInAll: round(all / operations, 3),
    processUs,
    ...(replicaUs === null ? {} : { replicaUs }),
    perSecondPerShard: basis > 0 ? Math.round(1e6 / basis) : null,
    commands
  }
}

function round (value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

const CALLBACK_CONFIG: CallbackConfig = {
  timeoutMs: 2_000,
  attempts: 3,
  backoffBaseMs: 10,
  backoffMaxMs: 100,
  retryAfterMaxMs: 1_000,
  concurrency: 64,
  perClientConcurrency: 64,
  insecureSkipVerify: false,
  deadLetterMax: 1_000,
  lockDurationMs: 10_000,
  stalledIntervalMs: 5_000
}

/** `count` COMPLETED events of client `bench`, ids `<tag>-<i>`. */
function callbackEvents (tag: string, count: number): CallbackEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${tag}-${i}`,
    clientId: 'bench',
    group: 'bench',
    commandId: String(i + 1),
    type: 'sign',
    state: 'COMPLETED',
    destination: { to: '@tmp', bid: '11318956-2040-4360-941d-437e4ddd810c', mid: '14fc191a-a0a3-4ae3-929a-e37efafdb510' },
    response: '{"jws":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}',
    createdAt: T0,
    finishedAt: T0 + 1
  }))
}

/** Every callback delivered at once (no HTTP): what remains is what BullMQ asks of Redis per callback. */
async function measureCallbacks (target: CostTarget, count: number, batch: number): Promise<OperationCost> {
  let settled = 0
  let expected = 0
  let wake: (() => void) | undefined
  const queue = new BullmqCallbackQueue({
    redis: target.config(`cost${batch}`),
    config: { ...CALLBACK_CONFIG, queueShards: target.queueShards },
    deliverer: { attempt: async () => ({ kind: 'delivered', status: 204 }) },
    onSettled: () => { if (++settled === expected) wake?.() }
  })
  /** Enqueues `events` in batches and resolves once all are settled. */
  const deliver = async (events: CallbackEvent[]): Promise<void> => {
    settled = 0
    expected = events.length
    const done = new Promise<void>((resolve) => { wake = resolve })
    for (let i = 0; i < events.length; i += batch) await queue.enqueue(events.slice(i, i + batch))
    await done
  }
  queue.start()
  await queue.waitUntilReady()
  try {
    // Warm-up (BullMQ loads its scripts on first use), then let the workers settle into their blocking wait.
    await deliver(callbackEvents(`warm${batch}`, Math.max(batch, 20)))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const events = callbackEvents(`cost${batch}`, count)
    return await measure(target, `callback (batches of ${batch})`,
      `one callback through BullMQ, enqueued in addBulk batches of ${batch}, fetched, delivered, completed; every command of producer and worker`,
      count, async () => { await deliver(events) })
  } finally {
    await queue.close()
  }
}

/** Sweeps until nothing is due at `now`; throws unless exactly `expected` commands timed out (the row's per-command basis). */
async function claimAll (store: RedisMailboxStore, now: number, expected: number): Promise<void> {
  let timedOut = 0
  for (let batch = await store.claimDue(now, 500); batch > 0; batch = await store.claimDue(now, 500)) timedOut += batch
  if (timedOut !== expected) throw new Error(`the sweep timed out ${timedOut} commands, expected ${expected}`)
}

/**
 * Each operation alone, `count` times (32 at once), on a flushed private Redis:
 * accept (@tmp), accept to a named box, list, read, answer, relay (outbox read + ack), claim (the
 * timeout sweep, per command timed out; named boxes and @tmp apart), and BullMQ's work per callback (batches of 1 and of 100).
 */
export async function measureRedisCost (server: PrivateRedis | CostTarget, options: { count: number }): Promise<RedisCostResult> {
  const n = options.count
  const target = 'resetStats' in server ? server : standaloneTarget(server)
  await target.flushAll()
  const store = await RedisMailboxStore.connect({ config: target.config('cost') })
  const cpuStart = target.cpuSeconds().main
  const wallStart = performance.now()
  const operations: OperationCost[] = []
  try {
    // Warm up: the group registered, an id block fetched, scripts loaded.
    await store.accept(request(), T0)
    const accepted: Array<{ bid: string, mid: string, token: string }> = []
    operations.push(await measure(target, 'accept', 'accept a sign command to one @tmp box (503 B payload)', n, async () => {
      await inParallel(Array.from({ length: n }, () => async () => {
        accepted.push((await store.accept(request(), T0)).command.destinations[0]!)
      }))
    }))
    operations.push(await measure(target, 'accept (named box)', 'accept a sign command to a named box (one of 100)', n, async () => {
      await inParallel(Array.from({ length: n }, (_, i) => async () => { await store.accept(request({ to: [`desk${i % 100}`] }), T0) }))
    }))
    operations.push(await measure(target, 'list', 'list a @tmp box (one pending message)', n, async () => {
      await inParallel(accepted.map((d) => async () => { await store.listBox(d.bid, d.token, T0 + 1) }))
    }))
    operations.push(await measure(target, 'read', 'read the message of a @tmp box', n, async () => {
      await inParallel(accepted.map((d) => async () => { await store.readMessage(d.bid, d.mid, T0 + 2) }))
    }))
    operations.push(await measure(target, 'answer', 'answer it (256 B response; writes the COMPLETED outbox event)', n, async () => {
      const response = JSON.stringify({ jws: 'x'.repeat(240) })
      await inParallel(accepted.map((d) => async () => { await store.answer(d.bid, d.mid, { status: 'OK', response }, T0 + 3) }))
    }))
    // The named-box accepts wrote nothing to the outbox; the answers wrote n events.
    operations.push(await measure(target, 'relay', 'move one outbox event: readOutbox + ackOutbox in batches of 500', n, async () => {
      for (;;) {
        const events = await store.readOutbox(500)
        if (events.length === 0) break
        await store.ackOutbox(events.map((e) => e.id))
      }
    }))
    // The named-box accepts and the warm-up are the only commands due at T0 + 300 s (the @tmp ones were answered): the boxes' keys are
    // learnt by the sweep's script (a re-run with them declared, includes/declared.lua), then remembered per group.
    operations.push(await measure(target, 'claim (named boxes)',
      'time out one command of a named box (one of 100): claimDue batches of 500, per command timed out', n, async () => {
        await claimAll(store, T0 + 300_000, n + 1)
      }))
    await inParallel(Array.from({ length: n }, () => async () => { await store.accept(request({ timeoutSeconds: 10 }), T0 + 4) }))
    operations.push(await measure(target, 'claim', 'time out one command: claimDue batches of 500 (the sweeper), per command timed out', n, async () => {
      await claimAll(store, T0 + 4 + 10_000, n)
    }))
    // The timeouts wrote n outbox events: moved away, so that the idle row finds nothing.
    for (let events = await store.readOutbox(500); events.length > 0; events = await store.readOutbox(500)) {
      await store.ackOutbox(events.map((e) => e.id))
    }
    operations.push(await measure(target, 'idle sweep + relay poll', 'one claimDue and one readOutbox with nothing due, 1 group', n, async () => {
      for (let i = 0; i < n; i++) { await store.claimDue(T0, 500); await store.readOutbox(500) }
    }))
    // 100 groups, each with a command pending (not due): the idle work grows with the groups.
    await inParallel(Array.from({ length: 100 }, (_, i) => async () => { await store.accept(request({ group: `idle${i}` }), T0) }))
    const ticks = Math.max(1, Math.floor(n / 20))
    operations.push(await measure(target, 'idle sweep + relay poll, 100 groups', 'one claimDue and one readOutbox with nothing due, 101 groups', ticks, async () => {
      for (let i = 0; i < ticks; i++) { await store.claimDue(T0, 500); await store.readOutbox(500) }
    }))
  } finally {
    await store.close()
  }
  try {
    operations.push(await measureCallbacks(target, n, 1))
    operations.push(await measureCallbacks(target, n, 100))
  } finally {
    if (target !== server) await target.close()
  }
  const cpuEnd = target.cpuSeconds().main
  const seconds = (performance.now() - wallStart) / 1000
  return {
    status: 'ok',
    topology: target.topology,
    ...(target.idleCores.main > 0 || target.idleCores.replicas > 0
      ? { idleCores: { main: round(target.idleCores.main, 3), replicas: round(target.idleCores.replicas, 3) } }
      : {}),
    operations,
    cpu: { redis: cpuStart === null || cpuEnd === null ? null : round((cpuEnd - cpuStart) / seconds, 2) }
  }
}

/** The Markdown table of a result: one line per operation. */
export function formatRedisCost (result: RedisCostResult): string {
  // A cluster run: the masters' CPU is the redis-server column, the replicas' their own.
  const replicas = result.operations.some((op) => op.replicaUs !== undefined)
  const lines = [
    `| Operation | Scripts | Script time (commandstats) | Commands in all | redis-server CPU${replicas ? ' (masters) | Replicas\' CPU' : ''} | ` +
      'Per shard at 100 % CPU | Top commands (calls, µs per operation) |',
    `|---|---|---|---|---|${replicas ? '---|' : ''}---|---|`
  ]
  for (const op of result.operations) {
    const top = Object.entries(op.commands).slice(0, 6).map(([name, c]) => `${name} ${c.calls}× ${c.us}`).join(', ')
    const perShard = op.perSecondPerShard === null ? 'n/a' : `${op.perSecondPerShard.toLocaleString('en-US')}/s`
    const replicaCell = replicas ? ` ${op.replicaUs ?? 'n/a'} µs |` : ''
    lines.push(`| ${op.operation} | ${op.scripts} | ${op.scriptUs} µs | ${op.commandsInAll} | ${op.processUs ?? 'n/a'} µs |${replicaCell} ${perShard} | ${top} |`)
  }
  return lines.join('\n')
}
