// Accepting into a live named box writes no candidate box index (no SET and DEL per accept) and, when this instance saw the
// box lately, reads nothing before the script; a new box is still indexed before the script; a stale memory is corrected.
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
  t.equal(stats.get('hmget')?.calls, 2, 'both inside the script: no read of the box before it (this instance saw it)')
  t.same(await admin.keys(`${prefix}:b:*`), [`${prefix}:b:${first.bid}`], 'one index entry: the box')
  // A peer without the box cache finds both messages through the index.
  const peer = await storeFor(t, redis.url, prefix)
  t.same((await peer.listBox(first.bid, first.token, T0 + 2))?.map((m) => m.mid).sort(), [first.mid, second.mid].sort())

  // Past the box's lifespan: a new box (the candidate), indexed before the script ran.
  const later = T0 + 61_000
  await admin.config('RESETSTAT')
  const third = (await store.accept(request({ to: ['desk'], lifespanSeconds: 60 }), later)).command.destinations[0]!
  t.not(third.bid, first.bid, 'a new box')
  const again = parseCommandStats(await admin.info('commandstats'))
  t.equal(again.get('evalsha')?.calls, 2, 'the remembered box is gone: -7, then a run with a candidate')
  t.equal(again.get('set')?.calls, 2, 'the candidate indexed (before the second run), the record')
  const fresh = await storeFor(t, redis.url, prefix)
  t.same((await fresh.listBox(third.bid, third.token, later + 1))?.map((m) => m.mid), [third.mid])
})

t.test('a remembered box another instance replaced: the script names the live one and the accept uses it', async (t) => {
  const prefix = freshPrefix()
  const a = await storeFor(t, redis.url, prefix)
  const b = await storeFor(t, redis.url, prefix)
  const first = (await a.accept(request({ to: ['desk'], lifespanSeconds: 60 }), T0)).command.destinations[0]!
  const later = T0 + 61_000
  const replaced = (await b.accept(request({ to: ['desk'], lifespanSeconds: 60 }), later)).command.destinations[0]!
  t.not(replaced.bid, first.bid, 'the other instance made a new box')
  const viaA = (await a.accept(request({ to: ['desk', '@tmp', 'desk'], lifespanSeconds: 60 }), later + 1)).command
  t.same([viaA.destinations[0]!.bid, viaA.destinations[0]!.token], [replaced.bid, replaced.token], 'the live box, not the remembered one')
  t.equal(viaA.destinations[2]!.bid, replaced.bid)
  t.same((await b.listBox(replaced.bid, replaced.token, later + 2))?.map((m) => m.mid).sort(),
    [replaced.mid, viaA.destinations[0]!.mid, viaA.destinations[2]!.mid].sort())
  t.equal(await a.listBox(first.bid, first.token, later + 2), null, 'the old box is gone')
})
