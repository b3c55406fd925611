// The index of groups with work due: the sweeper and the relay read it, so their Redis calls at idle do not grow with the groups.
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { parseRedisNodes } from '../../src/config/build.js'
import { RedisKeys } from '../../src/mailbox/keys.js'
import { RedisMailboxStore, type RedisMailboxStoreOptions } from '../../src/mailbox/redis-store.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { startRedis } from '../helpers/redis-server.js'
import { T0, adminClient, freshPrefix, request, storeFor } from '../helpers/redis-store-fixtures.js'

const server = await startRedis()
t.teardown(() => server.destroy())

const ROUNDS = 20
const LATER = T0 + 120_000

/**
 * Commands that are not the sweeper's or the relay's: the admin's own INFO and CONFIG, and the connections' upkeep
 * (a Cluster client reads the slot map in the background: CLUSTER SLOTS, its subscriber every second).
 */
const UPKEEP = /^(info|config|cluster|ping|command|client|hello|readonly|auth|select)(\||$)/

/** Calls of every command but UPKEEP since the last CONFIG RESETSTAT, by command. */
async function callsSince (admin: Redis): Promise<Map<string, number>> {
  const stats = await admin.info('commandstats')
  const calls = new Map<string, number>()
  for (const [, name, n] of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (!UPKEEP.test(name!)) calls.set(name!, Number(n))
  }
  return calls
}

/** Commands in `count` groups, half answered and half timed out, every callback event relayed: the groups are quiet. */
async function quietGroups (store: RedisMailboxStore, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { command } = await store.accept(request({ group: `g${i}` }), T0)
    const d = command.destinations[0]!
    if (i % 2 === 0) await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 1)
  }
  while (await store.claimDue(LATER, 500) > 0);
  for (let events = await store.readOutbox(500); events.length > 0; events = await store.readOutbox(500)) {
    await store.ackOutbox(events.map((e) => e.id))
  }
}

/**
 * Redis calls of ROUNDS sweeps and relay reads with nothing to do, and by command. Measured up to three times, the
 * fewest kept: the count is only ever raised by what else runs meanwhile (a re-index when a loaded Cluster client
 * reconnects and is ready again), while growth with the groups would show in every measurement.
 */
async function idleCalls (store: RedisMailboxStore, admins: Redis[], expected: number): Promise<{ calls: number, byCommand: string }> {
  let fewest = { calls: Infinity, byCommand: '' }
  for (let attempt = 0; attempt < 3 && fewest.calls !== expected; attempt++) {
    await Promise.all(admins.map(async (a) => await a.config('RESETSTAT')))
    for (let i = 0; i < ROUNDS; i++) {
      t.equal(await store.claimDue(LATER, 500), 0)
      t.same(await store.readOutbox(500), [])
    }
    const byCommand = new Map<string, number>()
    for (const calls of await Promise.all(admins.map(callsSince))) {
      for (const [name, n] of calls) byCommand.set(name, (byCommand.get(name) ?? 0) + n)
    }
    const calls = [...byCommand.values()].reduce((a, b) => a + b, 0)
    if (calls < fewest.calls) fewest = { calls, byCommand: JSON.stringify(Object.fromEntries(byCommand)) }
  }
  return fewest
}

async function idleStore (tt: Test, extra: Partial<RedisMailboxStoreOptions> = {}): Promise<RedisMailboxStore> {
  return await storeFor(tt, server.url, freshPrefix(), { reindexIntervalMs: 0, ...extra })
}

for (const layout of [{ name: 'group tags (standalone)', buckets: undefined }, { name: '4 group buckets (the Cluster layout)', buckets: 4 }]) {
  t.test(`${layout.name}: at idle the sweeper and the relay make the same Redis calls for 1 group and for 200`, async (t) => {
    const admin = adminClient(t, server.url)
    const extra = layout.buckets === undefined ? {} : { groupBuckets: layout.buckets }
    const one = await idleStore(t, extra)
    await quietGroups(one, 1)
    const many = await idleStore(t, extra)
    await quietGroups(many, 200)
    const perRound = 2 * (layout.buckets ?? 1)
    const oneGroup = await idleCalls(one, [admin], ROUNDS * perRound)
    t.equal(oneGroup.calls, ROUNDS * perRound, `1 group: ${perRound} calls per round (one read of each bucket's index by the sweeper and by the relay): ${oneGroup.byCommand}`)
    const manyGroups = await idleCalls(many, [admin], ROUNDS * perRound)
    t.equal(manyGroups.calls, ROUNDS * perRound, `200 quiet groups: the same: ${manyGroups.byCommand}`)
    const keys = many.keys
    for (let b = 0; b < keys.bucketCount; b++) {
      t.equal(await admin.zcard(keys.dueGroups(b)), 0, `bucket ${b}: no group left with deadlines`)
      t.equal(await admin.scard(keys.outboxGroups(b)), 0, `bucket ${b}: no group left with outbox events`)
    }
  })
}

t.test('the index follows the work: accept enters the deadline, a sweep sets it right or drops the group, an acknowledgement empties the outbox set', async (t) => {
  const admin = adminClient(t, server.url)
  const store = await idleStore(t)
  const keys = store.keys
  const due = keys.dueGroups(0)
  const outbox = keys.outboxGroups(0)
  const slow = await store.accept(request({ group: 'acme', timeoutSeconds: 50 }), T0)
  t.equal(Number(await admin.zscore(due, 'acme')), T0 + 50_000, 'accept: the group enters with its deadline')
  const fast = await store.accept(request({ group: 'acme', timeoutSeconds: 5 }), T0)
  t.equal(Number(await admin.zscore(due, 'acme')), T0 + 5_000, 'an earlier deadline lowers it')
  await store.accept(request({ group: 'acme', timeoutSeconds: 90 }), T0)
  t.equal(Number(await admin.zscore(due, 'acme')), T0 + 5_000, 'a later one leaves it')
  const d = fast.command.destinations[0]!
  await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 1)
  t.same(await admin.smembers(outbox), ['acme'], 'a terminal step: the group enters the outbox set')
  t.equal(Number(await admin.zscore(due, 'acme')), T0 + 5_000, 'the answered deadline stays in the index (lower than the group\'s earliest: never higher)')
  t.equal(await store.claimDue(T0 + 6_000, 500), 0, 'a sweep at that time finds nothing due')
  t.equal(Number(await admin.zscore(due, 'acme')), T0 + 50_000, 'and sets the entry to the earliest deadline left')
  t.equal(await store.claimDue(T0 + 95_000, 500), 2, 'both others time out')
  t.equal(await admin.zscore(due, 'acme'), null, 'nothing pending: the group leaves the deadline index')
  const events = await store.readOutbox(500)
  t.same(events.map((e) => e.state).sort(), ['COMPLETED', 'TIMEOUT', 'TIMEOUT'])
  t.equal(events.find((e) => e.commandId === slow.command.commandId)?.state, 'TIMEOUT')
  await store.ackOutbox(events.slice(0, 1).map((e) => e.id))
  t.same(await admin.smembers(outbox), ['acme'], 'events left: the group stays in the outbox set')
  await store.ackOutbox(events.slice(1).map((e) => e.id))
  t.same(await admin.smembers(outbox), [], 'outbox empty: the group leaves it')
})

t.test('work the index does not describe (written by an older version) is found by a re-index, and a stale outbox entry is dropped', async (t) => {
  const admin = adminClient(t, server.url)
  const store = await idleStore(t)
  const keys = store.keys
  await store.accept(request({ group: 'old', timeoutSeconds: 5 }), T0)
  const answered = await store.accept(request({ group: 'old-answered' }), T0)
  const d = answered.command.destinations[0]!
  await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 1)
  await admin.del(keys.dueGroups(0), keys.outboxGroups(0))
  t.equal(await store.claimDue(T0 + 10_000, 500), 0, 'without its index entry the deadline is not seen')
  t.same(await store.readOutbox(500), [], 'nor the outbox event')
  t.equal(await store.reindex(), 2, 'the re-index walks the registered groups: two have work')
  t.equal(await store.claimDue(T0 + 10_000, 500), 1, 'the deadline is found')
  const events = await store.readOutbox(500)
  t.same(events.map((e) => `${e.group}:${e.state}`).sort(), ['old-answered:COMPLETED', 'old:TIMEOUT'], 'both events are found')
  await admin.sadd(keys.outboxGroups(0), 'gone-quiet')
  await store.ackOutbox(events.map((e) => e.id))
  t.same(await store.readOutbox(500), [], 'a group in the outbox set with an empty outbox')
  t.same(await admin.smembers(keys.outboxGroups(0)), [], 'leaves the set at the first read')
})

t.test('the key layout marker: written once, a different one refused with what to do', async (t) => {
  const admin = adminClient(t, server.url)
  const prefix = freshPrefix()
  const tags = await storeFor(t, server.url, prefix, { reindexIntervalMs: 0 })
  t.equal(await tags.layoutConflict(), undefined, 'a fresh prefix: no conflict')
  t.equal(await admin.get(`${prefix}:layout`), 'group-tags', 'the marker is written')
  t.equal(await tags.layoutConflict(), undefined, 'the same layout again: none')
  const buckets = await storeFor(t, server.url, prefix, { reindexIntervalMs: 0, groupBuckets: 8 })
  t.match(await buckets.layoutConflict(), /written with key layout group-tags, this instance uses group-buckets=8.*new broker\.redis\.prefix/)

  const clustered = freshPrefix()
  const earlier = await storeFor(t, server.url, clustered, { reindexIntervalMs: 0 })
  await earlier.accept(request({ group: 'acme' }), T0)
  await admin.del(`${clustered}:layout`)
  const upgraded = await storeFor(t, server.url, clustered, { reindexIntervalMs: 0, groupBuckets: 8 })
  t.match(await upgraded.layoutConflict(), /pending commands or undelivered callbacks of 1 group\(s\) written by an earlier version.*drain/,
    'pending work in the per-group tags of earlier versions: refused in the bucket layout')
  t.equal(await admin.get(`${clustered}:layout`), null, 'and no marker written')
})

t.test('Redis Cluster: a group\'s keys share the slot of its bucket\'s index; idle calls over all masters do not grow with the groups', async (t) => {
  const cluster = await startRedisCluster(t)
  const nodes = parseRedisNodes(cluster.seeds)
  const config = (prefix: string): RedisMailboxStoreOptions => ({
    config: { url: 'redis://unused', prefix, options: {}, cluster: { nodes, options: {}, groupBuckets: 8 } }, reindexIntervalMs: 0
  })
  const open = async (prefix: string): Promise<RedisMailboxStore> => {
    const store = await RedisMailboxStore.connect(config(prefix))
    t.teardown(() => store.close())
    return store
  }
  const masters = (await cluster.masters()).map((port) => {
    const redis = new Redis({ port, host: '127.0.0.1' })
    t.teardown(() => { redis.disconnect() })
    return redis
  })
  const one = await open(freshPrefix())
  await quietGroups(one, 1)
  const many = await open(freshPrefix())
  await quietGroups(many, 40)
  t.equal(many.keys.bucketCount, 8)
  const oneGroup = await idleCalls(one, masters, ROUNDS * 2 * 8)
  t.equal(oneGroup.calls, ROUNDS * 2 * 8, `1 group: 2 calls per bucket and round: ${oneGroup.byCommand}`)
  const manyGroups = await idleCalls(many, masters, ROUNDS * 2 * 8)
  t.equal(manyGroups.calls, ROUNDS * 2 * 8, `40 quiet groups: the same: ${manyGroups.byCommand}`)

  const keys = new RedisKeys('hx', 8)
  const slotOf = async (key: string): Promise<number> => Number(await masters[0]!.call('CLUSTER', 'KEYSLOT', key))
  const bucketSlots = new Set<number>()
  for (let b = 0; b < 8; b++) bucketSlots.add(await slotOf(keys.dueGroups(b)))
  t.equal(bucketSlots.size, 8, 'eight buckets, eight slots')
  t.same([...bucketSlots].map((slot) => Math.floor(slot / 2048)).sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'one in each eighth of the slot space')
  for (const group of ['acme', 'odd{group}:x']) {
    const [dueGroups, outboxGroups] = keys.groupIndexKeys(group)
    const slot = await slotOf(keys.groupBase(group))
    t.equal(await slotOf(dueGroups), slot, `${group}: its deadline index shares its slot`)
    t.equal(await slotOf(outboxGroups), slot, `${group}: so does its outbox set`)
  }
})
