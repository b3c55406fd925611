// The Redis store's footprint and layout: memory per command, hash tags, TTLs, round trips, start-up checks,
// what each script reads and writes.
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import t from 'tap'
import { MIN_PURGE_GRACE_MS } from '../../src/config/schema.js'
import { scriptsDirectory } from '../../src/mailbox/redis-scripts.js'
import { ManualClock } from '../../src/mailbox/clock.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'
import { PAYLOAD, T0, adminClient, freshPrefix, keysOf, request, storeFor } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'

/** A private Redis without AOF (only the data in used_memory); tests change its config and stats. */
const server = await startRedis()
t.teardown(async () => { await server.destroy() })
const admin = adminClient(t, server.url)

/** eval and evalsha alike. */
function script (name: string): string { return name.startsWith('eval') ? 'script' : name }

t.test('memory per pending command (one @tmp destination)', async (t) => {
  const store = await storeFor(t, server.url)
  const now = Date.now()
  /** Allocated bytes without client buffers, once Redis has finished rehashing (it does so in its cron). */
  const usedMemory = async (): Promise<number> => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const stats = await admin.call('MEMORY', 'STATS') as unknown[]
    const stat = (name: string): number => Number(stats[stats.indexOf(name) + 1])
    return stat('total.allocated') - stat('clients.normal')
  }
  const long = { lifespanSeconds: 300, timeoutSeconds: 300 }
  for (let i = 0; i < 200; i++) await store.accept(request(long), now) // the deadline set is a skiplist past 128
  const before = await usedMemory()
  const n = 3000
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, () => store.accept(request(long), now)))
  const perCommand = (await usedMemory() - before) / n
  const sample = (await store.accept(request(), now)).command
  const record = await admin.memory('USAGE', store.keys.command('acme', sample.commandId))
  const index = await admin.memory('USAGE', store.keys.boxIndex(sample.destinations[0]!.bid))
  t.comment(`allocated per pending command: ${perCommand.toFixed(0)} bytes with a ${PAYLOAD.length}-byte payload, ${(perCommand - PAYLOAD.length).toFixed(0)} bytes besides it`)
  t.comment(`MEMORY USAGE: record ${String(record)} bytes, box index ${String(index)} bytes (plus a deadline entry and the expires entries)`)
  t.ok(perCommand - PAYLOAD.length <= 600, 'at most ~600 bytes plus the payload')
})

t.test('every key of a group carries its hash tag; only a few global keys do not (the index of work due among them, on a standalone Redis)', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, server.url, prefix)
  const groups = ['acme', 'odd{group}:x']
  for (const group of groups) {
    const { command } = await store.accept(request({ group, to: ['@tmp', 'liz'], idempotencyKey: 'k', fingerprint: 'f' }), T0)
    await store.cancel(group, command.commandId, T0 + 1)
    await store.accept(request({ group }), T0)
  }
  const keys = await keysOf(admin, prefix)
  const global = keys.filter((k) => !k.includes('{'))
  t.same([...new Set(global.map((k) => k.replace(/:b:[0-9a-f-]{36}$/, ':b:<bid>')))].sort(), [`${prefix}:b:<bid>`, `${prefix}:dg`, `${prefix}:groups`, `${prefix}:og`, `${prefix}:seq`])
  for (const key of keys.filter((k) => k.includes('{'))) {
    const tag = key.slice(key.indexOf('{') + 1, key.indexOf('}'))
    t.ok(groups.map((g) => `g:${encodeURIComponent(g)}`).includes(tag), `${key}: one slot per group`)
    t.ok(key.startsWith(`${prefix}:{${tag}}:`), `${key}: tag right after the prefix`)
  }
  t.equal(new Set(keys.filter((k) => k.includes('{')).map((k) => k.slice(0, k.indexOf('}') + 1))).size, 2, 'two groups, two tags')
})

t.test('no credential-like data in keys or values', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, server.url, prefix)
  const { command } = await store.accept(request({ to: ['@tmp', 'max'], externalId: 'order-1', idempotencyKey: 'k', fingerprint: 'f' }), T0)
  const d = command.destinations[0]!
  await store.answer(d.bid, d.mid, { status: 'OK', response: '{"jws":"abc"}' }, T0 + 1)
  const dump: string[] = []
  for (const key of await keysOf(admin, prefix)) {
    dump.push(key)
    const type = await admin.type(key)
    if (type === 'string') dump.push((await admin.getBuffer(key))!.toString('latin1'))
    if (type === 'hash') dump.push(...Object.entries(await admin.hgetall(key)).flat())
    if (type === 'zset') dump.push(...await admin.zrange(key, 0, -1))
    if (type === 'set') dump.push(...await admin.smembers(key))
  }
  t.ok(dump.length > 10)
  t.notOk(dump.some((text) => /x-api-key|api.?key|authorization|password|passwd|secret|whsec_|basic /i.test(text)), 'nothing that looks like a credential')
})

t.test('record TTLs: lifespan + grace while pending, lifespan left + slack once terminal; indexes live as long as their box', async (t) => {
  const store = await storeFor(t, server.url, freshPrefix(), { purgeGraceMs: 600_000, terminalSlackMs: 5_000 })
  const near = (actual: number, expected: number, what: string): void => { t.ok(actual <= expected && actual > expected - 2_000, `${what}: ${actual} ms, expected ~${expected}`) }
  const { command } = await store.accept(request({ lifespanSeconds: 60 }), T0)
  const d = command.destinations[0]!
  near(await admin.pttl(store.keys.command('acme', command.commandId)), 60_000 + 600_000, 'pending record')
  near(await admin.pttl(store.keys.boxIndex(d.bid)), 60_000 + 5_000, '@tmp box index')
  await store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, T0 + 10_000)
  near(await admin.pttl(store.keys.command('acme', command.commandId)), 50_000 + 5_000, 'terminal record')
  const short = (await store.accept(request({ to: ['nina'], lifespanSeconds: 10, timeoutSeconds: 10 }), T0)).command.destinations[0]!
  near(await admin.pttl(store.keys.boxIndex(short.bid)), 10_000 + 5_000, 'named box index')
  const long = (await store.accept(request({ to: ['nina'], lifespanSeconds: 100, timeoutSeconds: 10 }), T0)).command.destinations[0]!
  t.equal(long.bid, short.bid)
  near(await admin.pttl(store.keys.boxIndex(short.bid)), 100_000 + 5_000, 'named box index, extended with the box')
  near(await admin.pttl(store.keys.namedBox('acme', 'nina')), 100_000 + 5_000, 'named box')
  near(await admin.pttl(store.keys.namedBoxPending('acme', 'nina')), 100_000 + 5_000, 'its pending index')
  const late = (await store.accept(request({ group: 'late', timeoutSeconds: 30, lifespanSeconds: 30 }), T0)).command
  t.equal(await store.claimDue(T0 + 31_000, 10), 3, 'this one and the two above')
  t.ok(await admin.pttl(store.keys.command('late', late.commandId)) <= 5_000, 'timed out after its lifespan: only the slack is left')
})

t.test('round trips: a device call is one script once its box index is cached; accept is one pipeline', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, server.url, prefix)
  const device = await storeFor(t, server.url, prefix)
  const { command } = await store.accept(request(), T0)
  const d = command.destinations[0]!
  const monitor = await admin.monitor()
  t.teardown(() => monitor.disconnect())
  let seen: string[] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => { if (source !== 'lua') seen.push(String(args[0]).toLowerCase()) })
  const settle = async (): Promise<string[]> => {
    await admin.ping() // MONITOR has seen everything sent before this
    await new Promise((resolve) => setTimeout(resolve, 50))
    const calls = seen.filter((name) => name !== 'ping')
    seen = []
    return calls
  }
  await settle()
  await device.readMessage(d.bid, d.mid, T0 + 1)
  const first = await settle()
  await device.readMessage(d.bid, d.mid, T0 + 2)
  await device.listBox(d.bid, d.token, T0 + 2)
  const repeat = await settle()
  await store.accept(request(), T0)
  const accept = await settle()
  t.comment(`first touch: ${first.join(', ')}; two repeat calls: ${repeat.join(', ')}; accept: ${accept.join(', ')}`)
  t.same(first.map(script), ['get', 'script'], 'first touch reads the index, then runs the script')
  t.same(repeat.map(script), ['script', 'script'], 'repeat calls run their script only')
  t.same(accept.map(script), ['set', 'script'], 'accept: the box index, then the script, in one pipeline')
})

t.test('maxmemory-policy: a warning unless noeviction, also when CONFIG is disabled', async (t) => {
  t.same((await storeFor(t, server.url)).warnings, [], 'noeviction: no warning')
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru')
  try {
    const store = await storeFor(t, server.url)
    t.match(store.warnings, [/allkeys-lru, not noeviction/])
  } finally {
    await admin.config('SET', 'maxmemory-policy', 'noeviction')
  }
  const locked = await startRedis({ extraArgs: ['--rename-command', 'CONFIG', '""'] })
  t.teardown(() => locked.destroy())
  const store = await storeFor(t, locked.url)
  t.match(store.warnings, [/could not read maxmemory-policy/])
  t.equal((await store.accept(request(), T0)).replayed, false, 'and it works all the same')
})

t.test('named box entries of commands past their lifespan are pruned as the box grows', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, server.url, prefix)
  await store.accept(request({ to: ['olga'], timeoutSeconds: 600, lifespanSeconds: 600 }), T0)
  for (let i = 0; i < 40; i++) await store.accept(request({ to: ['olga'], timeoutSeconds: 1, lifespanSeconds: 1 }), T0)
  const later = []
  for (let i = 0; i < 40; i++) later.push((await store.accept(request({ to: ['olga'], timeoutSeconds: 600, lifespanSeconds: 600 }), T0 + 2_000)).command)
  const fields = await admin.hlen(store.keys.namedBox('acme', 'olga'))
  t.ok(fields < 60, `${fields} fields left of 84 written`)
  t.equal(await admin.hlen(store.keys.namedBoxPending('acme', 'olga')), 41, 'its pending index keeps the live messages only (the 40 expired ones were never swept)')
  const d = later[0]!.destinations[0]!
  t.equal((await store.listBox(d.bid, d.token, T0 + 2_001))?.length, 41, 'every live message is still listed')
})

/** Calls per Redis command (scripts' own calls included) while `fn` runs. */
async function commandCalls (fn: () => Promise<unknown>): Promise<Record<string, number>> {
  await admin.config('RESETSTAT')
  await fn()
  const calls: Record<string, number> = {}
  for (const [, name, n] of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name!] = Number(n)
  return calls
}

t.test('answer, cancel and timeout write the meta alone: the record of a decided 1 MiB command is small', async (t) => {
  const store = await storeFor(t, server.url)
  const payload = JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(1 << 20) } } })
  const [answered, cancelled, timedOut] = await Promise.all([0, 1, 2].map(async () => (await store.accept(request({ payload, to: ['@tmp', 'pia'], timeoutSeconds: 10 }), T0)).command))
  const size = async (id: string): Promise<number> => await admin.strlen(store.keys.command('acme', id))
  t.ok(await size(answered!.commandId) > 1 << 20, 'pending: the record holds the payload')
  const read = await store.readMessage(answered!.destinations[1]!.bid, answered!.destinations[1]!.mid, T0 + 1)
  t.equal(read.kind === 'ok' && read.message.payload, payload, 'and devices read it whole')
  const d = answered!.destinations[0]!
  t.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '{"jws":"abc"}' }, T0 + 2), { kind: 'ok', state: 'COMPLETED' })
  t.equal((await store.cancel('acme', cancelled!.commandId, T0 + 2)).kind, 'ok')
  t.equal(await store.claimDue(T0 + 10_000, 10), 1)
  for (const [what, c] of [['answered', answered!], ['cancelled', cancelled!], ['timed out', timedOut!]] as const) {
    const bytes = await size(c.commandId)
    t.ok(bytes > 0 && bytes < 1024, `${what}: the record is its meta alone (${bytes} B)`)
    t.equal((await store.getCommand('acme', c.commandId, T0 + 10_001))?.destinations.length, 2, `${what}: status still whole`)
  }
  t.equal((await store.getCommand('acme', answered!.commandId, T0 + 10_001))?.response, '{"jws":"abc"}')
})

t.test('a named box is listed from its pending index: decided messages and their records are never read', async (t) => {
  const store = await storeFor(t, server.url)
  const commands = []
  for (let i = 0; i < 30; i++) commands.push((await store.accept(request({ to: ['quinn'] }), T0 + i)).command)
  for (const c of commands.slice(0, 28)) {
    const d = c.destinations[0]!
    await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 100)
  }
  await store.cancel('acme', commands[28]!.commandId, T0 + 100)
  const pending = commands[29]!.destinations[0]!
  t.same(await admin.hkeys(store.keys.namedBoxPending('acme', 'quinn')), [pending.mid], 'the index holds the pending message only')
  let listing: unknown
  const calls = await commandCalls(async () => { listing = await store.listBox(pending.bid, pending.token, T0 + 101) })
  t.same((listing as Array<{ mid: string }>).map((m) => m.mid), [pending.mid])
  t.comment(`one listing: ${JSON.stringify(calls)}`)
  t.notOk('get' in calls || 'getrange' in calls || ('hgetall' in calls && calls.hgetall! > 1), 'no command record read, one hash read')
  t.equal(await admin.hlen(store.keys.namedBox('acme', 'quinn')) - 3, 30, 'decided messages stay in the box (a device reading one is told it is decided)')
  t.same(await store.readMessage(commands[0]!.destinations[0]!.bid, commands[0]!.destinations[0]!.mid, T0 + 101), { kind: 'decided', state: 'COMPLETED' })
})

t.test('a sweep stops at its byte budget and goes on in another script, so Redis serves others in between', async (t) => {
  const store = await storeFor(t, server.url, freshPrefix(), { sweepBudgetBytes: 600 })
  for (let i = 0; i < 12; i++) await store.accept(request({ to: ['@tmp', 'rita'], timeoutSeconds: 5 }), T0)
  let claimed = 0
  const calls = await commandCalls(async () => { claimed = await store.claimDue(T0 + 5_000, 500) })
  t.equal(claimed, 12, 'one claimDue call times out every due command')
  const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0)
  t.comment(`12 records of ~190 B of meta, 600 B per script: ${scripts} scripts`)
  t.ok(scripts >= 3, 'in several scripts')
  t.equal(await store.claimDue(T0 + 5_000, 500), 0)
  t.equal((await store.readOutbox(100)).length, 12, 'one TIMEOUT each')
})

t.test('a deadline whose record is gone is counted and logged (throttled), never dropped silently', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  let counted = 0
  const store = await storeFor(t, server.url, freshPrefix(), { logger, onDeadlinesWithoutRecord: (n) => { counted += n } })
  const lost = []
  for (let i = 0; i < 3; i++) lost.push((await store.accept(request({ timeoutSeconds: 5 }), T0)).command)
  const kept = (await store.accept(request({ timeoutSeconds: 5 }), T0)).command
  for (const c of lost) await admin.del(store.keys.command('acme', c.commandId)) // what the TTL does when no sweep came within lifespan + grace
  t.equal(await store.claimDue(T0 + 5_000, 500), 1, 'the command whose record is there times out')
  t.equal(counted, 3, 'the three others are counted')
  const lostLines = lines.filter((l) => /without their command record/.test(String(l.msg)))
  t.equal(lostLines.length, 1, 'and logged once')
  t.match(lostLines[0], { group: 'acme', count: 3 })
  t.equal(await admin.zcard(store.keys.deadlines('acme')), 0, 'the deadlines are gone')
  await store.accept(request({ timeoutSeconds: 5 }), T0).then(async ({ command }) => await admin.del(store.keys.command('acme', command.commandId)))
  await store.claimDue(T0 + 5_000, 500)
  t.equal(counted, 4, 'counted every time')
  t.equal(lines.filter((l) => /without their command record/.test(String(l.msg))).length, 1, 'logged at most once a minute')
  t.same((await store.readOutbox(10)).map((e) => e.commandId), [kept.commandId])
})

t.test('the broker counts deadlines without their record in hermod_deadlines_without_record_total', async (t) => {
  const prefix = freshPrefix()
  const clock = new ManualClock(T0)
  const broker = await createBroker(testConfig({ broker: { store: 'redis', redis: { url: server.url, prefix, options: {} } } }), { clock })
  t.teardown(() => broker.close())
  const store = broker.context.store as RedisMailboxStore
  const { command } = await store.accept(request({ timeoutSeconds: 5 }), T0)
  await admin.del(store.keys.command('acme', command.commandId))
  clock.advance(5_000)
  t.equal(await broker.sweeper.sweepOnce(), 0)
  const scrape = await broker.app.inject({ method: 'GET', url: '/hermod/actuator/prometheus' })
  t.match(scrape.body, /^hermod_deadlines_without_record_total 1$/m)
})

t.test('a purge grace below the minimum is refused before any connection is made', async (t) => {
  for (const purgeGraceMs of [0, 1_000, MIN_PURGE_GRACE_MS - 1]) {
    t.throws(() => new RedisMailboxStore({ config: { url: server.url, prefix: freshPrefix(), options: {} }, purgeGraceMs }), /purgeGraceMs must be at least 300000/)
  }
})

t.test('the scripts are found from the compiled dist/ tree as well as from src/', async (t) => {
  const src = fileURLToPath(new URL('../../src/mailbox/scripts/', import.meta.url))
  t.equal(scriptsDirectory(new URL('../../src/mailbox/redis-scripts.ts', import.meta.url).href), src)
  t.equal(scriptsDirectory(new URL('../../dist/src/mailbox/redis-scripts.js', import.meta.url).href), src)
  t.throws(() => scriptsDirectory('file:///nowhere/at/all/x.js'), /scripts not found/)
})
