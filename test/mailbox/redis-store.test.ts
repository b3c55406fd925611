// The store contract on the Redis driver (two instances on one Redis), and what Redis must survive (R2-R5, R8).
import t from 'tap'
import { configSchema } from '../../src/config/schema.js'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { StoreUnavailableError } from '../../src/mailbox/store.js'
import {
  T0, adminClient, dropPrefix, freshPrefix, keysOf, openStore, request, storeFor, unavailableWithin
} from '../helpers/redis-store-fixtures.js'
import { redisUrlForTests, startRedis } from '../helpers/redis-server.js'
import { storeContract } from './store-contract.js'

const shared = redisUrlForTests() === undefined ? await startRedis() : undefined
const sharedUrl = redisUrlForTests() ?? shared!.url
t.teardown(async () => { await shared?.destroy() })

/** The least `broker.purge-grace-ms` an operator can configure: the contract must hold with it. */
const LEAST_GRACE_MS = configSchema.properties!.broker!.properties!['purge-grace-ms']!.minimum!

t.test('the store contract at the least configurable purge grace, with a second store on the same Redis as the peer instance', async (t) => {
  storeContract(t, async () => {
    const prefix = freshPrefix()
    const store = await openStore(sharedUrl, prefix, { purgeGraceMs: LEAST_GRACE_MS })
    const peer = await openStore(sharedUrl, prefix, { purgeGraceMs: LEAST_GRACE_MS })
    return {
      store,
      peer,
      close: async () => {
        await Promise.all([store.close(), peer.close()])
        await dropPrefix(sharedUrl, prefix)
      }
    }
  })
})

/** A private Redis (AOF, fsync always) for the tests that stop, kill, pause or fill it. */
const priv = await startRedis({ appendonly: true, appendfsync: 'always' })
t.teardown(async () => { await priv.destroy() })
const admin = adminClient(t, priv.url)

t.test('a new store instance finds commands, boxes and deadlines (R8)', async (t) => {
  const prefix = freshPrefix()
  const first = await openStore(priv.url, prefix)
  const { command } = await first.accept(request({ to: ['@tmp', 'ivy'], timeoutSeconds: 5 }), T0)
  await first.close()
  const second = await storeFor(t, priv.url, prefix)
  const [tmp, named] = command.destinations
  t.same((await second.listBox(tmp!.bid, tmp!.token, T0 + 1))?.map((m) => m.mid), [tmp!.mid])
  t.same((await second.listBox(named!.bid, named!.token, T0 + 1))?.map((m) => m.mid), [named!.mid])
  t.equal(await second.claimDue(T0 + 4_999, 10), 0)
  t.equal(await second.claimDue(T0 + 5_000, 10), 1, 'the deadline lives in Redis, not in a timer of the closed instance')
  t.same((await second.readOutbox(10)).map((e) => [e.commandId, e.state]), [[command.commandId, 'TIMEOUT']])
})

t.test('AOF always: a SIGKILLed Redis keeps every acknowledged command (R2)', async (t) => {
  const prefix = freshPrefix()
  const store = await openStore(priv.url, prefix)
  const accepted = await Promise.all(Array.from({ length: 20 }, (_, i) => store.accept(request({ to: i % 2 === 0 ? ['@tmp'] : ['jack'] }), T0)))
  await store.close()
  await priv.kill()
  await priv.restart()
  const after = await storeFor(t, priv.url, prefix)
  for (const { command } of accepted) {
    const found = await after.getCommand('acme', command.commandId, T0 + 1)
    t.same(found?.destinations, command.destinations, `command ${command.commandId} is whole`)
  }
  t.equal(await after.claimDue(T0 + 30_000, 100), 20, 'and its deadline survived')
})

t.test('Redis down: every method rejects with StoreUnavailableError at once; back within 5 s (R3)', async (t) => {
  const store = await storeFor(t, priv.url)
  const { command } = await store.accept(request(), T0)
  const d = command.destinations[0]!
  await store.readMessage(d.bid, d.mid, T0) // the box index is cached: the device path goes straight to the script
  await priv.stop()
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['accept', () => store.accept(request(), T0)],
    ['getCommand', () => store.getCommand('acme', command.commandId, T0)],
    ['cancel', () => store.cancel('acme', command.commandId, T0)],
    ['listBox', () => store.listBox(d.bid, d.token, T0)],
    ['readMessage', () => store.readMessage(d.bid, d.mid, T0)],
    ['answer', () => store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, T0)],
    ['claimDue', () => store.claimDue(T0, 10)],
    ['readOutbox', () => store.readOutbox(10)],
    ['ackOutbox', () => store.ackOutbox(['x'])],
    ['ping', () => store.ping()]
  ]
  let slowest = 0
  for (const [name, call] of calls) slowest = Math.max(slowest, await unavailableWithin(t, name, call))
  t.comment(`slowest rejection while Redis was down: ${slowest.toFixed(1)} ms`)
  t.ok(slowest < 1500, 'no call hangs')
  await priv.restart()
  const started = performance.now()
  for (;;) {
    try {
      await store.ping()
      break
    } catch {
      if (performance.now() - started > 10_000) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const recovery = performance.now() - started
  t.comment(`recovered ${recovery.toFixed(0)} ms after Redis answered PING again`)
  t.ok(recovery < 5000, 'recovers by itself within 5 s')
  t.equal((await store.getCommand('acme', command.commandId, T0 + 1))?.state, 'IN_PROGRESS')
  t.equal((await store.accept(request(), T0)).replayed, false, 'accepts again')
})

t.test('a hung Redis (SIGSTOP): calls reject with StoreUnavailableError after the command timeout, then work again', async (t) => {
  const store = await storeFor(t, priv.url, freshPrefix(), { commandTimeoutMs: 500 })
  const { command } = await store.accept(request(), T0)
  priv.pause()
  let took: number
  try {
    took = await unavailableWithin(t, 'getCommand', () => store.getCommand('acme', command.commandId, T0))
    took = Math.max(took, await unavailableWithin(t, 'accept', () => store.accept(request(), T0)))
  } finally {
    priv.resume()
  }
  t.comment(`rejected after ${took.toFixed(0)} ms (command timeout 500 ms)`)
  t.ok(took < 1500, 'no hang')
  t.equal((await store.getCommand('acme', command.commandId, T0))?.state, 'IN_PROGRESS')
})

t.test('Redis down at start: connect resolves, ping rejects, ready within 5 s of Redis coming up (R4)', async (t) => {
  await priv.stop()
  let store: RedisMailboxStore | undefined
  try {
    const started = performance.now()
    store = await RedisMailboxStore.connect({ config: { url: priv.url, prefix: freshPrefix(), options: {} } }, 500)
    t.ok(performance.now() - started < 2000, 'connect does not wait for Redis forever')
    await unavailableWithin(t, 'ping', () => store!.ping())
  } finally {
    await priv.restart()
  }
  t.teardown(() => store?.close())
  const up = performance.now()
  while (performance.now() - up < 10_000) {
    if (await store!.ping().then(() => true, () => false)) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const ready = performance.now() - up
  t.comment(`ready ${ready.toFixed(0)} ms after Redis came up`)
  t.ok(ready < 5000)
  t.equal((await store!.accept(request(), T0)).command.state, 'IN_PROGRESS')
})

t.test('OOM under noeviction: accept -> StoreUnavailableError, nothing partial; reads, answers and sweeps go on (R5)', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, priv.url, prefix)
  const early = (await store.accept(request({ to: ['kim', '@tmp'], timeoutSeconds: 5 }), T0)).command
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
  await admin.config('SET', 'maxmemory', String(used + 512 * 1024))
  t.teardown(() => admin.config('SET', 'maxmemory', '0'))
  const big = JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(8192) } } })
  let accepted = 1
  let failure: unknown
  for (let i = 0; i < 1000 && failure === undefined; i++) {
    try {
      await store.accept(request({ payload: big, to: i % 3 === 0 ? ['kim'] : ['@tmp'] }), T0)
      accepted++
    } catch (err) {
      failure = err
    }
  }
  t.ok(failure instanceof StoreUnavailableError, `accept fails with StoreUnavailableError (got ${String(failure)})`)
  t.ok(accepted > 10, `${accepted} commands fit before`)
  const keys = await keysOf(admin, prefix)
  const commandIds = keys.filter((k) => k.includes('}:c:')).map((k) => k.slice(k.lastIndexOf(':') + 1)).sort()
  const deadlines = (await admin.zrange(`${prefix}:{g:acme}:due`, 0, -1)).sort()
  t.equal(commandIds.length, accepted, 'a record for every accepted command, and none for the refused one')
  t.same(deadlines, commandIds, 'every record has its deadline and every deadline its record')
  for (const id of commandIds) {
    const command = await store.getCommand('acme', id, T0 + 1)
    for (const d of command?.destinations ?? []) {
      t.equal(await admin.exists(`${prefix}:b:${d.bid}`), 1, `command ${id}: box ${d.to} is indexed`)
      if (d.to !== '@tmp') t.ok(await admin.hexists(`${prefix}:{g:acme}:n:${d.to}`, d.mid), `command ${id}: in its named box`)
    }
  }
  await unavailableWithin(t, 'still full', () => store.accept(request(), T0))
  const [named, tmp] = early.destinations
  t.equal((await store.readMessage(tmp!.bid, tmp!.mid, T0 + 1)).kind, 'ok', 'devices still read')
  t.equal((await store.listBox(named!.bid, named!.token, T0 + 1))?.length, Math.ceil((accepted - 1) / 3) + 1)
  t.same(await store.answer(tmp!.bid, tmp!.mid, { status: 'OK', response: '{}' }, T0 + 2), { kind: 'ok', state: 'COMPLETED' }, 'and answer')
  t.equal(await store.claimDue(T0 + 30_000, 10_000), accepted - 1, 'the sweeper still times out')
  const events = await store.readOutbox(10_000)
  t.equal(events.length, accepted)
  await store.ackOutbox(events.map((e) => e.id))
  await admin.config('SET', 'maxmemory', '0')
  t.equal((await store.accept(request(), T0)).replayed, false, 'accepts again once there is room')
})

t.test('accept wakes long polls only for named boxes: nobody can be polling a new @tmp box', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, sharedUrl, prefix)
  const subscriber = adminClient(t, sharedUrl)
  const heard: string[] = []
  subscriber.on('message', (_channel: string, bid: string) => { heard.push(bid) })
  await subscriber.subscribe(`${prefix}:wake`)
  const tmp = await store.accept(request({ to: ['@tmp'] }), T0)
  const named = await store.accept(request({ to: ['@tmp', 'kim'] }), T0)
  for (const deadline = Date.now() + 5_000; heard.length === 0 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(heard, [named.command.destinations[1]!.bid], 'one wake-up, for the named box')
  t.notOk(heard.includes(tmp.command.destinations[0]!.bid))
})
