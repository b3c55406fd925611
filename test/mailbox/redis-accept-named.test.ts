// Accepting into a live named box writes no candidate box index (no SET and DEL per accept); a new box is still indexed.
import t from 'tap'
import { parseCommandStats } from '../../bench/redis-cost.js'
import { startRedis } from '../helpers/redis-server.js'
import { T0, adminClient, freshPrefix, request, storeFor } from '../helpers/redis-store-fixtures.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })

t.test('a live named box: one script and the index TTL refresh, no candidate index; an expired one gets a new, indexed box', async (t) => {
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix)
  const first = (await store.accept(request({ to: ['desk'], lifespanSeconds: 60 }), T0)).command.destinations[0]!
  await admin.config('RESETSTAT')
  const second = (await store.accept(request({ to: ['desk'], lifespanSeconds: 60 }), T0 + 1)).command.destinations[0]!
  const stats = parseCommandStats(await admin.info('commandstats'))
  t.equal(second.bid, first.bid, 'the live box')
  t.equal(stats.get('del'), undefined, 'no candidate index deleted')
  t.equal(stats.get('set')?.calls, 1, 'one SET: the record, inside the script')
  t.equal(stats.get('evalsha')?.calls, 1)
  t.equal(stats.get('pexpire')?.calls, 3, 'the index TTL (GT) from outside, the box and its pending index inside')
  t.same(await admin.keys(`${prefix}:b:*`), [`${prefix}:b:${first.bid}`], 'one index entry: the box')
  // A peer without the box cache finds both messages through the index.
  const peer = await storeFor(t, redis.url, prefix)
  t.same((await peer.listBox(first.bid, first.token, T0 + 2))?.map((m) => m.mid).sort(), [first.mid, second.mid].sort())

  // Past the box's lifespan: a new box (the candidate), indexed before the script ran.
  const later = T0 + 61_000
  const third = (await store.accept(request({ to: ['desk'], lifespanSeconds: 60 }), later)).command.destinations[0]!
  t.not(third.bid, first.bid, 'a new box')
  const fresh = await storeFor(t, redis.url, prefix)
  t.same((await fresh.listBox(third.bid, third.token, later + 1))?.map((m) => m.mid), [third.mid])
})
