// Scripts runs per device call on a named box: the first read of a message learns its command key, the answer passes it up front.
import t from 'tap'
import type { Redis } from 'ioredis'
import { startRedis } from '../helpers/redis-server.js'
import { adminClient, request, storeFor, T0 } from '../helpers/redis-store-fixtures.js'

/** EVALSHA + EVAL calls Redis has counted so far (INFO commandstats). */
async function scriptCalls (admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats')
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
}

t.test('a named box: read runs its script twice (the command key is learnt), the answer once', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const admin = adminClient(t, redis.url)
  const store = await storeFor(t, redis.url)
  const { command } = await store.accept(request({ to: ['ivy'] }), T0)
  const d = command.destinations[0]!
  const beforeRead = await scriptCalls(admin)
  t.equal((await store.readMessage(d.bid, d.mid, T0 + 1)).kind, 'ok')
  const afterRead = await scriptCalls(admin)
  t.equal(afterRead - beforeRead, 2, 'read: one run that asks for the command key, one that reads it')
  t.match(await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 2), { kind: 'ok', state: 'COMPLETED' })
  t.equal(await scriptCalls(admin) - afterRead, 1, 'answer: the learnt key passed up front, one run')
})

t.test('sweeps of a group\'s named-box commands: the first asks for the boxes\' indexes, later ones pass them up front', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const admin = adminClient(t, redis.url)
  const store = await storeFor(t, redis.url)
  for (let i = 0; i < 5; i++) await store.accept(request({ to: ['ivy', 'jack'], timeoutSeconds: 1 }), T0)
  const before = await scriptCalls(admin)
  t.equal(await store.claimDue(T0 + 1_000, 100), 5)
  const first = await scriptCalls(admin) - before
  t.equal(first, 2, 'first sweep: one run that asks for ivy\'s and jack\'s indexes, one that times out')
  for (let i = 0; i < 5; i++) await store.accept(request({ to: ['ivy', 'jack'], timeoutSeconds: 1 }), T0 + 2_000)
  const middle = await scriptCalls(admin)
  t.equal(await store.claimDue(T0 + 3_000, 100), 5)
  t.equal(await scriptCalls(admin) - middle, 1, 'the next sweep: one run')
})
