// The key guard: every Lua script of the store, on a real Redis Cluster, touches only keys it declared in KEYS.
import t from 'tap'
import { Cluster } from 'ioredis'
import { parseRedisNodes } from '../../src/config/build.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { freshPrefix, request, T0 } from '../helpers/redis-store-fixtures.js'
import { GUARD_ERROR, guarded, guardedScriptsDirectory } from '../helpers/script-key-guard.js'
import { storeContract } from './store-contract.js'

const cluster = await startRedisCluster(t)
const nodes = parseRedisNodes(cluster.seeds)
const dir = guardedScriptsDirectory(t)

async function guardedStore (prefix: string): Promise<RedisMailboxStore> {
  return await RedisMailboxStore.connect({
    config: { url: 'redis://unused', prefix, options: {}, cluster: { nodes, options: {} } }, purgeGraceMs: 300_000, scriptsDirectory: dir
  })
}

t.test('the store contract with every script guarded, on the cluster', async (t) => {
  storeContract(t, async () => {
    const prefix = freshPrefix()
    const [store, peer] = await Promise.all([guardedStore(prefix), guardedStore(prefix)])
    return { store, peer, close: async () => { await Promise.all([store.close(), peer.close()]) } }
  })
})

t.test('the paths whose keys come from data: named boxes of one command, a replayed key after its timeout, sweeps, the dev listing', async (t) => {
  const store = await guardedStore(freshPrefix())
  t.teardown(() => store.close())
  const keyed = request({ to: ['ivy', 'jack', '@tmp'], idempotencyKey: 'k-1', timeoutSeconds: 5 })
  const { command } = await store.accept(keyed, T0)
  const replay = await store.accept(keyed, T0 + 6_000)
  t.equal(replay.replayed, true, 'replayed')
  t.equal(replay.command.state, 'TIMEOUT', 'the replay wrote the timeout of a command with two named boxes')
  t.same(await store.listBox(command.destinations[0]!.bid, command.destinations[0]!.token, T0 + 6_001), [], 'its messages left ivy')

  const answered = await store.accept(request({ to: ['ivy', 'jack'] }), T0)
  const [ivy] = answered.command.destinations
  t.equal((await store.readMessage(ivy!.bid, ivy!.mid, T0 + 1)).kind, 'ok')
  t.match(await store.answer(ivy!.bid, ivy!.mid, { status: 'OK', response: '{}' }, T0 + 2), { kind: 'ok', state: 'COMPLETED' })
  t.same(await store.listBox(answered.command.destinations[1]!.bid, answered.command.destinations[1]!.token, T0 + 3), [], 'withdrawn from jack')

  const swept = await Promise.all(Array.from({ length: 30 }, (_, i) => store.accept(request({ to: i % 3 === 0 ? ['@tmp'] : ['ivy', `box${i % 4}`] }), T0)))
  t.equal(await store.reindex(), 1, 'the re-index of the registered groups, guarded: one group has work')
  t.equal(await store.claimDue(T0 + 31_000, 100), swept.length, 'the sweep timed out every command')
  const peeked = await store.peekCommands({ limit: 100 }, T0 + 31_001)
  t.ok(peeked.length >= swept.length, 'the dev listing reads them')
  t.equal(await store.cancel('acme', swept[0]!.command.commandId, T0 + 31_002).then((r) => r.kind), 'decided')
})

t.test('the guard can fail', async (t) => {
  const client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 0 } })
  t.teardown(() => client.disconnect())
  const base = `${freshPrefix()}:{g:acme}:`
  const sneaky = '#!lua\nreturn redis.call("GET", KEYS[1] .. "c:1")'
  const guardedError = await client.eval(guarded(sneaky), 1, base).then(() => undefined, (err: Error) => err.message)
  t.match(guardedError, new RegExp(`${GUARD_ERROR}: GET on undeclared key ${base.replace(/[{}]/g, '\\$&')}c:1`), 'an undeclared key of the same slot')
  t.equal(await client.eval(sneaky, 1, base), null, 'which Redis Cluster itself lets through (same slot)')
  let other = 'elsewhere'
  for (let i = 0; await cluster.masterFor(other) === await cluster.masterFor(base); i++) other = `elsewhere${i}`
  const crossError = await client.eval(`#!lua\nreturn redis.call("GET", "${other}")`, 1, base).then(() => undefined, (err: Error) => err.message)
  t.match(crossError, /Script attempted to access a non local key in a cluster node/, 'an undeclared key of another node: Redis Cluster refuses it')
})
