// BullMQ per-client deferral on a private redis-server: a hung client's backlog is held without a stream of Redis moves, woken, never lost.
import { QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import t from 'tap'
import { startRedis } from '../helpers/redis-server.js'
import { bullmqHarness, freshPrefix } from './bullmq-helpers.js'
import { makeClient, makeConfig, makeEvent, registryOf, sleep, startReceiver, waitFor, type WithTeardown } from './helpers.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })
const harness = bullmqHarness(redis.url)

/** Counts the queue's job moves (BullMQ's events stream, read live) per job id; `bullmqPrefix` is the queue's own prefix. */
async function countMoves (
  t: WithTeardown, bullmqPrefix: string, queueName: string
): Promise<{ delayed: Map<string, number>, active: Map<string, number> }> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null })
  const events = new QueueEvents(queueName, { connection, prefix: bullmqPrefix })
  const delayed = new Map<string, number>()
  const active = new Map<string, number>()
  events.on('delayed', ({ jobId }) => { delayed.set(jobId, (delayed.get(jobId) ?? 0) + 1) })
  events.on('active', ({ jobId }) => { active.set(jobId, (active.get(jobId) ?? 0) + 1) })
  t.teardown(async () => {
    await events.close()
    connection.disconnect()
  })
  await events.waitUntilReady()
  return { delayed, active }
}

const sum = (counts: Map<string, number>, ids: Set<string>): number =>
  [...counts].filter(([id]) => ids.has(id)).reduce((n, [, c]) => n + c, 0)

t.test('a hung client with per-client-concurrency 1: its backlog is parked once, not cycled; another client is served meanwhile', async t => {
  const receiver = await startReceiver((req, res) => { if (!req.url.startsWith('/slow')) res.writeHead(200).end() })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ clientId: 'slow', callbackUrl: `${receiver.url}/slow` }), makeClient({ clientId: 'fast', callbackUrl: `${receiver.url}/fast` }))
  // The hung attempt lasts 60 s: no slot of the slow client frees during the observation.
  const config = makeConfig({ concurrency: 4, perClientConcurrency: 1, timeoutMs: 60_000, attempts: 1 })
  const { queue, settled } = await harness(t, clients, config, { closeGraceMs: 500 })
  const moves = await countMoves(t, queue.prefix, queue.queueName)
  const slow = Array.from({ length: 12 }, () => makeEvent({ clientId: 'slow' }))
  const slowIds = new Set(slow.map(e => e.id))
  await queue.enqueue(slow)
  await waitFor(() => receiver.requests.length === 1, 20_000, 'the first slow attempt')
  await waitFor(() => sum(moves.delayed, slowIds) >= slow.length - 1, 20_000, 'the backlog parked')

  const fast = Array.from({ length: 5 }, () => makeEvent({ clientId: 'fast' }))
  await queue.enqueue(fast)
  await waitFor(() => settled.filter(s => s.event.clientId === 'fast').length === fast.length, 30_000, 'the fast client\'s callbacks')
  t.same(settled.filter(s => s.event.clientId === 'fast').map(s => s.result.kind), Array(fast.length).fill('delivered'),
    'delivered while the slow client hangs')
  const before = { delayed: sum(moves.delayed, slowIds), active: sum(moves.active, slowIds) }
  await sleep(4_000) // the old deferral (100 ms doubling to 5 s) moved each job several times in such a window
  const delayedMoves = sum(moves.delayed, slowIds)
  const activeMoves = sum(moves.active, slowIds)
  t.comment(`slow backlog of ${slow.length - 1}: ${delayedMoves} moves to delayed, ${activeMoves} to active in all; ` +
    `${delayedMoves - before.delayed} and ${activeMoves - before.active} in the last 4 s`)
  t.ok(delayedMoves <= slow.length - 1, `each parked job moved to delayed once (${delayedMoves})`)
  t.ok(activeMoves <= slow.length, `and taken once (${activeMoves})`)
  t.same([delayedMoves - before.delayed, activeMoves - before.active], [0, 0], 'no move at all while the client stays hung')
  t.equal(receiver.requests.filter(req => req.url.startsWith('/slow')).length, 1, 'one slow attempt at a time')
  t.match(await queue.stats(), { active: 1, delayed: slow.length - 1 })
})

t.test('a parked job is woken when its client\'s slot frees: the backlog drains one after another, each a real attempt', async t => {
  const holds: Array<() => void> = []
  const receiver = await startReceiver((req, res) => {
    if (req.url.startsWith('/slow')) holds.push(() => { if (!res.headersSent) res.writeHead(200).end() })
    else res.writeHead(200).end()
  })
  t.teardown(async () => { holds.forEach(release => { release() }); await receiver.close() })
  const clients = registryOf(makeClient({ clientId: 'slow', callbackUrl: `${receiver.url}/slow` }))
  const config = makeConfig({ concurrency: 4, perClientConcurrency: 1, timeoutMs: 20_000, attempts: 1 })
  const { queue, settled } = await harness(t, clients, config, { closeGraceMs: 500 })
  const moves = await countMoves(t, queue.prefix, queue.queueName)
  const slow = Array.from({ length: 4 }, () => makeEvent({ clientId: 'slow' }))
  await queue.enqueue(slow)
  for (let i = 0; i < slow.length; i++) {
    await waitFor(() => holds.length === i + 1, 20_000, `slow attempt ${i + 1}`)
    t.equal(settled.length, i, `${i} settled before attempt ${i + 1} is answered`)
    holds[i]!() // answer it: the client's slot frees and the next parked job is woken
    await waitFor(() => settled.length === i + 1, 20_000, `settled ${i + 1}`)
  }
  t.same(settled.map(s => s.result), Array(slow.length).fill({ kind: 'delivered', status: 200, attempts: 1 }), 'deferrals are not attempts')
  t.same(new Set(settled.map(s => s.event.id)), new Set(slow.map(e => e.id)))
  const delayedMoves = sum(moves.delayed, new Set(slow.map(e => e.id)))
  t.ok(delayedMoves <= 2 * (slow.length - 1), `parked jobs moved to delayed ${delayedMoves} times in all`)
})

t.test('a parked job whose wake-up is lost (its instance stopped) returns by itself after its delay and is delivered', async t => {
  const holds: Array<() => void> = []
  const receiver = await startReceiver((req, res, i) => {
    if (i === 0) holds.push(() => { res.destroy() }) // the first attempt hangs until its instance is gone
    else res.writeHead(200).end()
  })
  t.teardown(async () => { holds.forEach(release => { release() }); await receiver.close() })
  const prefix = freshPrefix()
  const clients = registryOf(makeClient({ callbackUrl: receiver.url }))
  const config = makeConfig({ perClientConcurrency: 1, timeoutMs: 1_000, attempts: 3 })
  const first = await harness(t, clients, config, { prefix, closeGraceMs: 100, lockDurationMs: 1_000, stalledIntervalMs: 500 })
  const moves = await countMoves(t, first.queue.prefix, first.queue.queueName)
  const [held, parked] = [makeEvent(), makeEvent()]
  await first.queue.enqueue([held!])
  await waitFor(() => receiver.requests.length === 1)
  await first.queue.enqueue([parked!])
  await waitFor(() => moves.delayed.get(parked!.id) === 1, 10_000, 'the second event parked')
  await first.queue.close() // nobody is left to wake the parked job
  const second = await harness(t, clients, config, { prefix, lockDurationMs: 1_000, stalledIntervalMs: 500 })
  await waitFor(() => second.settled.length === 2, 20_000, 'both delivered by the second instance')
  t.same(new Set(second.settled.map(s => s.event.id)), new Set([held!.id, parked!.id]))
  t.same(second.settled.find(s => s.event.id === parked!.id)?.result, { kind: 'delivered', status: 200, attempts: 1 }, 'parking cost no attempt')
})
