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
