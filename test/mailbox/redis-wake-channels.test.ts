// Long-poll wake-ups over sharded pub/sub: two Redis stores in sharded mode on one Redis, and WakeChannels on a real 6-node cluster.
import { Cluster } from 'ioredis'
import t from 'tap'
import { BoxWaiters } from '../../src/mailbox/box-waiters.js'
import { RedisKeys } from '../../src/mailbox/keys.js'
import { WakeChannels, wakeSignalModeFor } from '../../src/mailbox/wake-channels.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { withNode } from '../helpers/redis-processes.js'
import { startRedis } from '../helpers/redis-server.js'
import { T0, adminClient, freshPrefix, request, storeFor } from '../helpers/redis-store-fixtures.js'

/** Polls `check` every 20 ms until it holds (at most `tries` times); returns whether it did. */
async function eventually (check: () => Promise<boolean> | boolean, tries = 250): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

/** SHARDNUMSUB of one channel on one node. */
async function shardSubscribers (redis: { call: (...args: string[]) => Promise<unknown> }, channel: string): Promise<number> {
  const reply = await redis.call('PUBSUB', 'SHARDNUMSUB', channel) as [string, number]
  return Number(reply[1])
}

t.test('the mode follows the connection: sharded for a Cluster, broadcast otherwise', async (t) => {
  const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
  t.equal(wakeSignalModeFor(cluster), 'sharded')
  t.equal(wakeSignalModeFor({}), 'broadcast')
  const keys = new RedisKeys('hx')
  t.equal(keys.groupWakeChannel('a b'), 'hx:{g:a%20b}:wake', 'in the group\'s slot')
})

t.test('sharded mode on one Redis: a long poll on the peer instance subscribes its group, is woken by an accept, unsubscribes after', async (t) => {
  const redis = await startRedis()
  t.teardown(async () => { await redis.destroy() })
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix, { signals: 'sharded' })
  const peer = await storeFor(t, redis.url, prefix, { signals: 'sharded' })
  t.equal(peer.signalMode, 'sharded')
  const channel = peer.keys.groupWakeChannel('acme')
  const first = (await store.accept(request({ to: ['desk'] }), T0)).command.destinations[0]!
  const heard: string[] = []
  peer.onBoxActivity((bid) => heard.push(bid))
  const classic: string[] = []
  const listener = admin.duplicate()
  t.teardown(() => { listener.disconnect() })
  listener.on('message', (_channel: string, bid: string) => classic.push(bid))
  await listener.subscribe(`${prefix}:wake`)
  t.equal(await shardSubscribers(admin, channel), 0, 'nobody subscribed before a long poll')

  const waiters = new BoxWaiters(peer)
  t.teardown(() => waiters.close())
  const watch = waiters.watch(first.bid)
  const second = waiters.watch(first.bid)
  await watch.ready()
  await second.ready()
  t.equal(await shardSubscribers(admin, channel), 1, 'one subscription for the group, however many polls')
  const woken = watch.next(60_000)
  await store.accept(request({ to: ['desk'] }), T0 + 1)
  await woken
  t.same(heard, [first.bid], 'the wake-up came over the group\'s sharded channel')
  await store.accept(request({ to: ['@tmp'] }), T0 + 2)
  watch.close()
  t.equal(await shardSubscribers(admin, channel), 1, 'still watched by the second poll')
  second.close()
  t.ok(await eventually(async () => await shardSubscribers(admin, channel) === 0), 'unsubscribed after the last poll')
  t.same(heard, [first.bid], '@tmp accepts wake nobody')
  t.same(classic, [], 'nothing on the broadcast channel')
  // An unknown box: nothing to subscribe, the listing answers 404.
  const unknown = waiters.watch('7c9e6679-7425-40de-944b-e07fc1f90ae7')
  await unknown.ready()
  unknown.close()
  t.equal(await shardSubscribers(admin, channel), 0)
})

t.test('sharded mode: a long poll on a hung Redis does not wait for its subscription forever, and is woken once Redis is back', async (t) => {
  const redis = await startRedis()
  t.teardown(async () => { redis.resume(); await redis.destroy() })
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix, { signals: 'sharded' })
  const box = (await store.accept(request({ to: ['desk'] }), T0)).command.destinations[0]!
  const heard: string[] = []
  store.onBoxActivity((bid) => heard.push(bid))
  const waiters = new BoxWaiters(store)
  t.teardown(() => waiters.close())
  redis.pause()
  const watch = waiters.watch(box.bid) // the box id is cached: no Redis call before the SSUBSCRIBE
  await watch.ready()
  t.pass('ready resolved while Redis answered nothing')
  redis.resume()
  const admin = adminClient(t, redis.url)
  t.ok(await eventually(async () => await shardSubscribers(admin, store.keys.groupWakeChannel('acme')) === 1), 'subscribed once Redis answered')
  const woken = watch.next(60_000)
  await store.accept(request({ to: ['desk'] }), T0 + 1)
  await woken
  watch.close()
  t.same(heard, [box.bid])
})

t.test('broadcast mode (the default on one Redis) keeps the one channel', async (t) => {
  const redis = await startRedis()
  t.teardown(async () => { await redis.destroy() })
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix)
  const peer = await storeFor(t, redis.url, prefix)
  t.equal(peer.signalMode, 'broadcast')
  const heard: string[] = []
  peer.onBoxActivity((bid) => heard.push(bid))
  const box = (await store.accept(request({ to: ['desk'] }), T0)).command.destinations[0]!
  t.ok(await eventually(() => heard.length === 1), 'the first accept\'s wake-up (nobody waiting yet)')
  heard.length = 0
  const waiters = new BoxWaiters(peer)
  t.teardown(() => waiters.close())
  const watch = waiters.watch(box.bid)
  await watch.ready()
  const woken = watch.next(60_000)
  await store.accept(request({ to: ['desk'] }), T0 + 1)
  await woken
  watch.close()
  t.same(heard, [box.bid])
})

t.test('on a 6-node cluster: wake-ups of groups on every master arrive over SSUBSCRIBE, each subscription on its group\'s master', async (t) => {
  const cluster = await startRedisCluster(t)
  const seeds = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  const publisher = new Cluster(seeds)
  const subscriber = new Cluster(seeds, { shardedSubscribers: true })
  t.teardown(() => { publisher.disconnect(); subscriber.disconnect() })
  const keys = new RedisKeys(freshPrefix())
  const heard: string[] = []
  const errors: Error[] = []
  const channels = new WakeChannels('sharded', keys, subscriber, (bid) => heard.push(bid), (err) => errors.push(err))
  await channels.start()
  // Groups until each of the three masters serves one of their channels.
  const masters = await cluster.masters()
  const groupOf = new Map<number, string>()
  for (let i = 0; groupOf.size < masters.length && i < 200; i++) {
    const master = await cluster.masterFor(keys.groupWakeChannel(`g${i}`))
    if (!groupOf.has(master)) groupOf.set(master, `g${i}`)
  }
  t.equal(groupOf.size, 3, 'a group on every master')
  for (const [master, group] of groupOf) {
    const release = await channels.watchGroup(group)
    const channel = channels.channelFor(group)
    t.equal(channel, keys.groupWakeChannel(group))
    t.equal(await withNode(master, async (redis) => await shardSubscribers(redis, channel)), 1, `subscribed on :${master}, the group's master`)
    const bid = `bid-of-${group}`
    await publisher.spublish(channel, bid)
    t.ok(await eventually(() => heard.includes(bid)), `woken for ${group}`)
    release()
    t.ok(await eventually(async () => await withNode(master, async (redis) => await shardSubscribers(redis, channel)) === 0), 'unsubscribed on release')
  }
  t.equal(channels.watchedGroups, 0)
  t.same(errors, [])
  t.equal(heard.length, 3, 'each wake-up once')
})

t.test('broadcast mode: a wake-up published while the subscriber was away (Redis restarted, a Sentinel failover) still wakes the waited box', async (t) => {
  const redis = await startRedis()
  t.teardown(async () => { await redis.destroy() })
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix)
  const peer = await storeFor(t, redis.url, prefix)
  const heard: string[] = []
  peer.onBoxActivity((bid) => heard.push(bid))
  const box = (await store.accept(request({ to: ['desk'] }), T0)).command.destinations[0]!
  t.ok(await eventually(() => heard.length === 1), 'the first accept\'s wake-up, before anybody waits')
  const waiters = new BoxWaiters(peer)
  t.teardown(() => waiters.close())
  const watch = waiters.watch(box.bid)
  await watch.ready()
  let woken = false
  void watch.next(60_000).then(() => { woken = true })
  const subscribers = async (): Promise<number> => Number((await admin.call('PUBSUB', 'NUMSUB', `${prefix}:wake`) as [string, number])[1])
  t.equal(await subscribers(), 2, 'both instances subscribed')
  // Both subscribers' connections cut; they reconnect after 100 ms (reconnectDelay), the accept's PUBLISH comes before.
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await store.accept(request({ to: ['desk'] }), T0 + 1)
  t.equal(await subscribers(), 0, 'the accept published to nobody')
  t.ok(await eventually(async () => await subscribers() === 2), 'both subscribed again')
  t.ok(await eventually(() => woken), 'the waited box was woken after the reconnection, not at its poll\'s end')
  watch.close()
})
