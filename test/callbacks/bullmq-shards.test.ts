// The sharded BullMQ callback queue on a private redis-server: clients spread by a stable hash, each queue under its own
// hash tag, delivered exactly once by workers on two instances, dead letters of several shards listed and replayed, stats summed.
import { Redis } from 'ioredis'
import t from 'tap'
import { shardConcurrency, shardOf, shardPrefix } from '../../src/callbacks/bullmq-shards.js'
import { startRedis } from '../helpers/redis-server.js'
import { bullmqHarness, freshPrefix } from './bullmq-helpers.js'
import { makeClient, makeConfig, makeEvent, registryOf, sleep, startReceiver, waitFor } from './helpers.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })
const harness = bullmqHarness(redis.url)

/** Client ids `c0`, `c1`, ... until every one of `shards` shards has at least one. */
function clientsCoveringShards (shards: number): string[] {
  const ids: string[] = []
  const covered = new Set<number>()
  for (let i = 0; covered.size < shards && i < 1000; i++) {
    ids.push(`c${i}`)
    covered.add(shardOf(`c${i}`, shards))
  }
  return ids
}

/** Job ids BullMQ holds in the hash keys of one shard (`<shardPrefix>:callbacks:<job id>`). */
async function jobIdsIn (prefix: string): Promise<Set<string>> {
  const admin = new Redis(redis.url)
  try {
    const ids = new Set<string>()
    let cursor = '0'
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:callbacks:*`, 'COUNT', 1000)
      cursor = next
      for (const key of keys) if (await admin.type(key) === 'hash') ids.add(key.slice(`${prefix}:callbacks:`.length))
    } while (cursor !== '0')
    return ids
  } finally {
    admin.disconnect()
  }
}

t.test('shardOf is a stable FNV-1a hash; prefixes carry one hash tag per shard; one shard keeps {cb}', async t => {
  // Fixed values: a change of the hash would move every client's queue on upgrade.
  t.same(['prime1', 'acme', 'c0', 'c1', ''].map(id => shardOf(id, 8)), [3, 7, 6, 1, 5])
  t.equal(shardOf('foobar', 2 ** 32), 0xbf9cf968, 'the FNV-1a test vector')
  t.equal(shardOf('anything', 1), 0)
  t.equal(shardPrefix('hb', 0, 1), 'hb:{cb}')
  t.equal(shardPrefix('hb', 3, 8), 'hb:{cb:3}')
  t.throws(() => shardPrefix('h{b', 0, 8), /no braces/)
  t.same([shardConcurrency(64, 8), shardConcurrency(64, 1), shardConcurrency(5, 8), shardConcurrency(65, 8)], [8, 64, 1, 9])
})

t.test('callbacks of different clients land in their shard\'s queue and are delivered exactly once by two instances', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(receiver.close)
  const shards = 4
  const ids = clientsCoveringShards(shards)
  const registry = registryOf(...ids.map(clientId => makeClient({ clientId, callbackUrl: receiver.url })))
  const prefix = freshPrefix()
  const config = makeConfig({ queueShards: shards })
  const first = await harness(t, registry, config, { prefix })
  const second = await harness(t, registry, config, { prefix })
  t.equal(first.queue.shardCount, shards)
  t.same(first.queue.prefixes, [0, 1, 2, 3].map(i => `${prefix}:{cb:${i}}`))
  const events = ids.flatMap(clientId => Array.from({ length: 5 }, () => makeEvent({ clientId })))
  // Both instances enqueue everything (a relay read twice): still one delivery each.
  await Promise.all([first.queue.enqueue(events), second.queue.enqueue(events)])
  await waitFor(() => first.settled.length + second.settled.length >= events.length, 20_000, 'every callback settled')
  const settled = [...first.settled, ...second.settled]
  t.equal(settled.length, events.length, 'settled once each')
  t.ok(settled.every(s => s.result.kind === 'delivered'))
  const delivered = receiver.requests.map(r => r.headers['webhook-id'])
  t.equal(delivered.length, events.length, 'one HTTP delivery per callback')
  t.same(new Set(delivered), new Set(events.map(e => e.id)))
  // Each job sits (completed, retained) in the queue its client hashes to, and in no other.
  const held = await Promise.all(first.queue.prefixes.map(jobIdsIn))
  for (const event of events) {
    const shard = shardOf(event.clientId, shards)
    t.ok(held[shard]!.has(event.id), `${event.clientId} in shard ${shard}`)
    t.equal(held.filter(set => set.has(event.id)).length, 1)
  }
  t.ok(held.every(set => set.size > 0), 'every shard was used')
  t.match(await first.queue.stats(), { waiting: 0, active: 0, delayed: 0, deadLettered: 0, delivered: events.length })
  t.equal(await jobIdsIn(`${prefix}:{cb}`).then(s => s.size), 0, 'nothing in the unsharded queue')
})

t.test('dead letters of several shards are listed newest first, limited, and replayed from their own shard', async t => {
  let healthy = false
  const receiver = await startReceiver((_req, res) => { res.writeHead(healthy ? 200 : 410).end() })
  t.teardown(receiver.close)
  const shards = 3
  const ids = clientsCoveringShards(shards)
  const registry = registryOf(...ids.map(clientId => makeClient({ clientId, callbackUrl: receiver.url })))
  const { queue, settled } = await harness(t, registry, makeConfig({ queueShards: shards }))
  const events = ids.map(clientId => makeEvent({ clientId }))
  for (const event of events) {
    await queue.enqueue([event])
    await waitFor(() => settled.some(s => s.event.id === event.id), 10_000, 'dead-lettered')
  }
  t.ok(settled.every(s => s.result.kind === 'dead-lettered'))
  const letters = await queue.deadLetters()
  t.same(letters.map(l => l.event.id), [...events].reverse().map(e => e.id), 'all shards, newest first')
  t.same(new Set(letters.map(l => shardOf(l.event.clientId, shards))).size, shards, 'from every shard')
  t.same((await queue.deadLetters(2)).map(l => l.event.id), [events.at(-1)!.id, events.at(-2)!.id])
  t.match(await queue.stats(), { deadLettered: events.length })
  healthy = true
  settled.length = 0
  for (const event of events) t.equal(await queue.replay(event.id), true, `replayed ${event.clientId}`)
  t.equal(await queue.replay('no-such-event'), false)
  await waitFor(() => settled.length === events.length, 10_000, 'replays delivered')
  t.ok(settled.every(s => s.result.kind === 'delivered'))
  t.same(await queue.deadLetters(), [])
  t.match(await queue.stats(), { deadLettered: 0, delivered: events.length })
})

t.test('a parked callback of a client at its limit is woken in its own shard', async t => {
  const release: Array<() => void> = []
  const receiver = await startReceiver((_req, res) => { release.push(() => res.writeHead(200).end()) })
  t.teardown(receiver.close)
  const registry = registryOf(makeClient({ clientId: 'c1', callbackUrl: receiver.url }))
  const config = makeConfig({ queueShards: 4, concurrency: 16, perClientConcurrency: 1, timeoutMs: 60_000 })
  const { queue, settled } = await harness(t, registry, config)
  const events = [makeEvent({ clientId: 'c1' }), makeEvent({ clientId: 'c1' })]
  await queue.enqueue(events)
  await waitFor(() => release.length === 1, 10_000, 'first attempt')
  for (let i = 0; i < 200 && (await queue.stats()).delayed !== 1; i++) await sleep(50)
  t.equal((await queue.stats()).delayed, 1, 'the second one parked')
  release.shift()!()
  // The fallback delay is 2 minutes: only the wake-up in shard shardOf('c1') brings the second one this soon.
  await waitFor(() => release.length === 1, 10_000, 'second attempt after the wake-up')
  release.shift()!()
  await waitFor(() => settled.length === 2, 10_000, 'both delivered')
  t.same(settled.map(s => s.result.kind), ['delivered', 'delivered'])
})
