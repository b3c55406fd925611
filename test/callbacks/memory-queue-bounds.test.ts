// The embedded callback queue's memory bounds against targets that are down or answer 500: count, bytes, dead letters, metric, log.
import t from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { CallbackDeliverer } from '../../src/callbacks/deliverer.js'
import { MemoryCallbackQueue, type SettledResult } from '../../src/callbacks/memory-queue.js'
import { eventBytes, QUEUE_FULL_REASON } from '../../src/callbacks/memory-queue-bounds.js'
import type { ClientRegistry } from '../../src/auth/clients.js'
import type { CallbackConfig } from '../../src/config/types.js'
import type { CallbackEvent } from '../../src/mailbox/types.js'
import { createBroker } from '../../src/server/broker.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { captureLogger, makeClient, makeConfig, makeEvent, registryOf, sleep, startReceiver, waitFor, type WithTeardown } from './helpers.js'

/** Retries that stay delayed for the whole test: a target down keeps every event in the queue. */
const LONG_BACKOFF: Partial<CallbackConfig> = { attempts: 50, backoffBaseMs: 60_000, backoffMaxMs: 60_000 }

function harness (t: WithTeardown, clients: ClientRegistry, config: CallbackConfig) {
  const log = captureLogger()
  const deliverer = new CallbackDeliverer({ clients, config, logger: log.logger })
  const settled: Array<{ event: CallbackEvent, result: SettledResult }> = []
  const queue = new MemoryCallbackQueue({
    deliverer,
    config,
    logger: log.logger,
    random: () => 0.99,
    onSettled: (event, result) => settled.push({ event, result })
  })
  const full: number[] = []
  queue.onQueueFull((count) => full.push(count))
  t.teardown(async () => {
    await queue.close()
    await deliverer.close()
  })
  return { queue, settled, full, log }
}

t.test('a target that is down: the queue stops at queue-max-events, the rest is dead-lettered as queue full, logged once', async t => {
  const down = await startReceiver(() => {})
  await down.close() // connections refused from now on
  const clients = registryOf(makeClient({ callbackUrl: down.url }))
  const { queue, settled, full, log } = harness(t, clients, makeConfig({ ...LONG_BACKOFF, queueMaxEvents: 5 }))
  const events = Array.from({ length: 25 }, () => makeEvent())
  for (const batch of [events.slice(0, 10), events.slice(10)]) await queue.enqueue(batch)
  await waitFor(() => log.lines.filter(l => l.msg === 'callback attempt failed').length === 5, 10_000, 'the five first attempts')
  t.equal(queue.usage().events, 5, 'five held')
  t.match(await queue.stats(), { delayed: 5, waiting: 0, active: 0, deadLettered: 20 })
  t.same(full, [5, 15], 'listeners told per enqueue')
  const letters = await queue.deadLetters(100)
  t.equal(letters.length, 20)
  t.ok(letters.every(l => l.reason === QUEUE_FULL_REASON && l.attempts === 0), 'each with the reason, no attempt made')
  t.same(new Set(letters.map(l => l.event.id)), new Set(events.slice(5).map(e => e.id)), 'the events past the bound')
  t.same(settled.map(s => s.result), Array(20).fill({ kind: 'dead-lettered', reason: QUEUE_FULL_REASON, attempts: 0 }))
  const warnings = log.lines.filter(l => String(l.msg).startsWith('callback queue full'))
  t.equal(warnings.length, 1, 'one warning for twenty events')
  t.match(warnings[0], { level: 40, bound: 'queue-max-events', maxEvents: 5, events: 5, suppressed: 0 })

  await queue.enqueue([makeEvent()])
  t.equal(queue.usage().events, 5, 'still five')
  t.equal(log.lines.filter(l => String(l.msg).startsWith('callback queue full')).length, 1, 'still one line within the window')
})

t.test('queue-max-bytes: big responses stop the queue by bytes; the dead letters are bounded by bytes too', async t => {
  const failing = await startReceiver((_req, res) => { res.writeHead(500).end() })
  t.teardown(failing.close)
  const maxBytes = 1024 * 1024
  const clients = registryOf(makeClient({ callbackUrl: failing.url }))
  const { queue, full } = harness(t, clients, makeConfig({ ...LONG_BACKOFF, queueMaxBytes: maxBytes, deadLetterMax: 1_000 }))
  const response = JSON.stringify({ blob: 'x'.repeat(200 * 1024) })
  const events = Array.from({ length: 30 }, () => makeEvent({ response }))
  const size = eventBytes(events[0]!)
  t.ok(size > 200 * 1024, `an event of ${size} bytes`)
  for (const event of events) await queue.enqueue([event])
  await waitFor(() => failing.requests.length === Math.floor(maxBytes / size), 10_000, 'the held events\' first attempts')
  const usage = queue.usage()
  t.equal(usage.events, Math.floor(maxBytes / size), `${usage.events} held`)
  t.ok(usage.bytes <= maxBytes, `held bytes ${usage.bytes} <= ${maxBytes}`)
  t.equal(full.reduce((a, b) => a + b, 0), 30 - usage.events, 'the others went to the dead letters')
  t.ok(usage.deadLetterBytes <= maxBytes, `dead-letter bytes ${usage.deadLetterBytes} <= ${maxBytes}`)
  const letters = await queue.deadLetters(100)
  t.equal(letters.length, Math.floor(maxBytes / size), 'only as many dead letters as fit their own budget')
  t.equal(letters[0]?.event.id, events[29]!.id, 'the newest kept')
  t.ok(letters.every(l => l.reason === QUEUE_FULL_REASON))
  t.equal(failing.requests.length, usage.events, 'no attempt for an event past the bound')
})

t.test('replay into a full queue dead-letters the event again as queue full; with room it is delivered', async t => {
  let healthy = false
  const receiver = await startReceiver((_req, res) => { res.writeHead(healthy ? 200 : 503).end() })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ callbackUrl: receiver.url }))
  const { queue, settled } = harness(t, clients, makeConfig({ ...LONG_BACKOFF, queueMaxEvents: 1 }))
  const [held, over] = [makeEvent(), makeEvent()]
  await queue.enqueue([held!, over!])
  await waitFor(() => receiver.requests.length === 1)
  t.equal(await queue.replay(over!.id), true)
  t.match(await queue.deadLetters(), [{ event: { id: over!.id }, reason: QUEUE_FULL_REASON }], 'still a dead letter, queue full')
  await queue.close()
  healthy = true
  const fresh = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig({ queueMaxEvents: 1 }))
  await fresh.queue.enqueue([over!])
  await waitFor(() => fresh.settled.length === 1)
  t.same(fresh.settled[0]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.equal(settled.length, 2, 'the first queue settled only its two queue-full dead letters')
})

t.test('a broker whose callback target answers 500: the queue stays at its bound, the dead letters say why, the metric counts', async t => {
  const failing = await startReceiver((_req, res) => { res.writeHead(500).end() })
  t.teardown(failing.close)
  const log = captureLogger()
  const config = testConfig({
    allowedClients: testClients(failing.url),
    broker: { callbacks: { ...LONG_BACKOFF, queueMaxEvents: 4 } }
  })
  const broker = await createBroker(config, { logger: log.logger })
  t.teardown(() => broker.close())
  broker.start()
  const headers = { 'x-api-key': apiKeyHeader('prime', KEYS.prime) }
  const commands = 12
  for (let i = 0; i < commands; i++) {
    const accepted = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers, payload: { commandHeader: { timeout: 60 }, signCommand: {} } })
    t.equal(accepted.statusCode, 200)
    const cancelled = await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.json().commandId as string}`, headers })
    t.ok(cancelled.statusCode < 300, `cancel ${i}: ${cancelled.statusCode}`)
  }
  const queue = broker.context.queue
  await waitFor(() => failing.requests.length === 4, 10_000, 'four first attempts')
  await sleep(200)
  t.match(await queue.stats(), { delayed: 4, active: 0, waiting: 0, deadLettered: commands - 4 })
  const letters = await queue.deadLetters(100)
  t.ok(letters.length === commands - 4 && letters.every(l => l.reason === QUEUE_FULL_REASON && l.event.state === 'CANCELLED'), 'dead letters with the reason')
  const admin = await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters' })
  t.equal(admin.statusCode, 200)
  t.match(admin.body, QUEUE_FULL_REASON, 'the operator sees the reason')
  const metrics = await broker.app.inject({ url: '/hermod/actuator/prometheus' })
  t.match(metrics.body, new RegExp(`^hermod_callbacks_queue_full_total ${commands - 4}$`, 'm'))
  t.equal(log.lines.filter(l => String(l.msg).startsWith('callback queue full')).length, 1, 'logged once')
  t.equal(failing.requests.length, 4, 'no attempt for the events past the bound')
})
