// The in-process queue against real receivers: retries (R11-R14), fairness (R15), dead letters and replay (R18), idempotency.
import t from 'tap'
import { CallbackDeliverer } from '../../src/callbacks/deliverer.js'
import { MemoryCallbackQueue, type AttemptReport, type MemoryCallbackQueueOptions, type SettledResult } from '../../src/callbacks/memory-queue.js'
import type { ClientRegistry } from '../../src/auth/clients.js'
import type { CallbackConfig } from '../../src/config/types.js'
import type { CallbackEvent } from '../../src/mailbox/types.js'
import { captureLogger, makeClient, makeConfig, makeEvent, registryOf, sleep, startReceiver, waitFor, type WithTeardown } from './helpers.js'

interface Harness {
  queue: MemoryCallbackQueue
  settled: Array<{ event: CallbackEvent, result: SettledResult }>
  attempts: Array<{ event: CallbackEvent, report: AttemptReport }>
}

function harness (
  t: WithTeardown, clients: ClientRegistry, config: CallbackConfig, extra: Partial<MemoryCallbackQueueOptions> = {}
): Harness {
  const log = captureLogger()
  const deliverer = new CallbackDeliverer({ clients, config, logger: log.logger })
  const settled: Harness['settled'] = []
  const attempts: Harness['attempts'] = []
  const queue = new MemoryCallbackQueue({
    deliverer,
    config,
    logger: log.logger,
    onAttempt: (event, report) => attempts.push({ event, report }),
    onSettled: (event, result) => settled.push({ event, result }),
    ...extra
  })
  t.teardown(async () => {
    await queue.close()
    await deliverer.close()
  })
  return { queue, settled, attempts }
}

t.test('R11: 500 five times then 200: six attempts, one success, one webhook-id, growing jittered delays', async t => {
  const receiver = await startReceiver((_req, res, i) => { res.writeHead(i < 5 ? 500 : 200).end() })
  t.teardown(receiver.close)
  const randoms = [0.6, 0.7, 0.8, 0.9, 0.95]
  let r = 0
  const { queue, settled, attempts } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })),
    makeConfig({ attempts: 6, backoffBaseMs: 10, backoffMaxMs: 1_000 }), { random: () => randoms[r++ % randoms.length]! })
  const event = makeEvent()
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1)
  t.same(settled[0]?.result, { kind: 'delivered', status: 200, attempts: 6 })
  t.equal(receiver.requests.length, 6)
  t.same(new Set(receiver.requests.map(req => req.headers['webhook-id'])), new Set([event.id]))
  const delays = attempts.map(a => a.report.nextDelayMs).filter((d): d is number => d !== undefined)
  t.same(delays, [6, 14, 32, 72, 152], 'full jitter over 10 * 2^(n-1)')
  for (let i = 1; i < receiver.requests.length; i++) {
    const gap = receiver.requests[i]!.at - receiver.requests[i - 1]!.at
    t.ok(gap >= delays[i - 1]! - 2, `attempt ${i + 1} waited ${gap} ms >= ${delays[i - 1]} ms`)
  }
  t.same(await queue.stats(), { waiting: 0, active: 0, delayed: 0, deadLettered: 0, delivered: 1 })
})

t.test('R11: with real randomness each delay stays inside its growing envelope and is honoured', async t => {
  const receiver = await startReceiver((_req, res, i) => { res.writeHead(i < 5 ? 500 : 200).end() })
  t.teardown(receiver.close)
  const { queue, settled, attempts } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })),
    makeConfig({ attempts: 6, backoffBaseMs: 20, backoffMaxMs: 1_000 }))
  await queue.enqueue([makeEvent()])
  await waitFor(() => settled.length === 1)
  const delays = attempts.map(a => a.report.nextDelayMs).filter((d): d is number => d !== undefined)
  t.equal(delays.length, 5)
  delays.forEach((delay, i) => t.ok(delay >= 0 && delay < 20 * 2 ** i, `retry ${i + 1}: ${delay} < ${20 * 2 ** i}`))
  for (let i = 1; i < receiver.requests.length; i++) t.ok(receiver.requests[i]!.at - receiver.requests[i - 1]!.at >= delays[i - 1]! - 2)
})

t.test('R12: 410 and 400 are tried once and dead-lettered; 408 and 429 are retried', async t => {
  const statuses: Record<string, number[]> = { '/a/callback/sign': [410], '/b/callback/sign': [400], '/c/callback/sign': [408, 429, 200] }
  const receiver = await startReceiver((req, res) => { res.writeHead(statuses[req.url]!.shift() ?? 500).end() })
  t.teardown(receiver.close)
  const clients = registryOf(...['a', 'b', 'c'].map(id => makeClient({ clientId: id, callbackUrl: `${receiver.url}/${id}` })))
  const { queue, settled } = harness(t, clients, makeConfig())
  await queue.enqueue(['a', 'b', 'c'].map(clientId => makeEvent({ clientId })))
  await waitFor(() => settled.length === 3)
  const byClient = Object.fromEntries(settled.map(s => [s.event.clientId, s.result]))
  t.same(byClient, {
    a: { kind: 'dead-lettered', reason: 'HTTP 410', attempts: 1 },
    b: { kind: 'dead-lettered', reason: 'HTTP 400', attempts: 1 },
    c: { kind: 'delivered', status: 200, attempts: 3 }
  })
  t.equal(receiver.requests.filter(r => r.url === '/a/callback/sign').length, 1)
  t.equal(receiver.requests.filter(r => r.url === '/b/callback/sign').length, 1)
  t.same((await queue.deadLetters()).map(d => [d.event.clientId, d.reason, d.attempts]).sort(), [['a', 'HTTP 410', 1], ['b', 'HTTP 400', 1]])
})

t.test('R13: Retry-After (seconds or HTTP-date) delays the next attempt; a huge one is capped', async t => {
  let dateHeader = ''
  const plan: Record<string, Array<() => [number, Record<string, string>]>> = {
    '/secs/callback/sign': [() => [429, { 'retry-after': '1' }], () => [200, {}]],
    '/date/callback/sign': [() => { dateHeader = new Date(Date.now() + 2_000).toUTCString(); return [503, { 'retry-after': dateHeader }] }, () => [200, {}]],
    '/huge/callback/sign': [() => [503, { 'retry-after': '3600' }], () => [200, {}]]
  }
  const receiver = await startReceiver((req, res) => {
    const [status, headers] = plan[req.url]!.shift()!()
    res.writeHead(status, headers).end()
  })
  t.teardown(receiver.close)
  const clients = registryOf(...['secs', 'date', 'huge'].map(id => makeClient({ clientId: id, callbackUrl: `${receiver.url}/${id}` })))
  const { queue, settled } = harness(t, clients, makeConfig({ backoffBaseMs: 5, retryAfterMaxMs: 2_500 }))
  await queue.enqueue(['secs', 'date', 'huge'].map(clientId => makeEvent({ clientId })))
  await waitFor(() => settled.length === 3, 15_000)
  t.ok(settled.every(s => s.result.kind === 'delivered' && s.result.attempts === 2))
  const times = (id: string): number[] => receiver.requests.filter(r => r.url === `/${id}/callback/sign`).map(r => r.at)
  const [s1, s2] = times('secs')
  t.ok(s2! - s1! >= 995, `Retry-After: 1 waited ${s2! - s1!} ms`)
  const [, d2] = times('date')
  t.ok(d2! >= Date.parse(dateHeader) - 5, `the HTTP-date was waited for (${d2! - Date.parse(dateHeader)} ms after it)`)
  const [h1, h2] = times('huge')
  t.ok(h2! - h1! >= 2_495, `capped Retry-After waited ${h2! - h1!} ms (>= 2500)`)
  t.ok(h2! - h1! < 10_000, 'and not an hour')
})

t.test('R14: a 302 is dead-lettered at once, its target never hit', async t => {
  const target = await startReceiver((_req, res) => { res.end() })
  const redirector = await startReceiver((_req, res) => { res.writeHead(302, { location: target.url }).end() })
  t.teardown(target.close)
  t.teardown(redirector.close)
  const { queue, settled } = harness(t, registryOf(makeClient({ callbackUrl: redirector.url })), makeConfig())
  await queue.enqueue([makeEvent()])
  await waitFor(() => settled.length === 1)
  t.same(settled[0]?.result, { kind: 'dead-lettered', reason: 'HTTP 302 (redirects are not followed)', attempts: 1 })
  t.equal(redirector.requests.length, 1)
  t.equal(target.requests.length, 0)
})

t.test('R15: a hanging client times out while another client\'s callbacks go through', async t => {
  const hang = await startReceiver(() => {})
  const fast = await startReceiver((_req, res) => { res.end() })
  t.teardown(hang.close)
  t.teardown(fast.close)
  const clients = registryOf(makeClient({ clientId: 'slow', callbackUrl: hang.url }), makeClient({ clientId: 'fast', callbackUrl: fast.url }))
  const { queue, settled } = harness(t, clients, makeConfig({ timeoutMs: 1_000, attempts: 1, concurrency: 2, perClientConcurrency: 1 }))
  await queue.enqueue([1, 2, 3].map(() => makeEvent({ clientId: 'slow' })))
  await queue.enqueue([1, 2, 3].map(() => makeEvent({ clientId: 'fast' })))
  await waitFor(() => settled.length === 6, 15_000)
  t.same(settled.slice(0, 3).map(s => [s.event.clientId, s.result.kind]), [['fast', 'delivered'], ['fast', 'delivered'], ['fast', 'delivered']],
    'all fast callbacks settled before the first slow attempt timed out')
  for (const s of settled.slice(3)) t.same(s.result, { kind: 'dead-lettered', reason: 'timeout after 1000 ms', attempts: 1 })
  t.equal(hang.requests.length, 3, 'each slow callback reached its target (one at a time) and got no answer')
})

t.test('a 200 whose body drips past the timeout is one attempt, recorded as delivered', async t => {
  const receiver = await startReceiver((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.flushHeaders()
    const timer = setInterval(() => { res.write('x') }, 50)
    res.on('close', () => { clearInterval(timer) })
  })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ callbackUrl: receiver.url }))
  const { queue, settled, attempts } = harness(t, clients, makeConfig({ timeoutMs: 1_500, attempts: 3 }))
  await queue.enqueue([makeEvent()])
  await waitFor(() => settled.length === 1, 15_000)
  await sleep(600) // a wrongly scheduled retry (10..40 ms backoff) would be made by now
  t.same(settled[0]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.equal(attempts.length, 1)
  t.equal(receiver.requests.length, 1, 'the target was called once')
  t.match(await queue.stats(), { delivered: 1, deadLettered: 0, delayed: 0 })
})

t.test('concurrency limits: per client and global, never exceeded, both reached', async t => {
  let inFlight = 0
  let peak = 0
  const receiver = await startReceiver((_req, res) => {
    peak = Math.max(peak, ++inFlight)
    setTimeout(() => { inFlight--; res.end() }, 150)
  })
  t.teardown(receiver.close)
  const clients = registryOf(...['x', 'y', 'z'].map(id => makeClient({ clientId: id, callbackUrl: `${receiver.url}/${id}` })))

  const one = harness(t, clients, makeConfig({ concurrency: 10, perClientConcurrency: 2 }))
  await one.queue.enqueue([1, 2, 3, 4, 5, 6].map(() => makeEvent({ clientId: 'x' })))
  await waitFor(() => one.settled.length === 6)
  t.equal(peak, 2, 'one client: perClientConcurrency')

  peak = 0
  const all = harness(t, clients, makeConfig({ concurrency: 3, perClientConcurrency: 2 }))
  await all.queue.enqueue(['x', 'y', 'z', 'x', 'y', 'z', 'x', 'y', 'z'].map(clientId => makeEvent({ clientId })))
  await waitFor(() => all.settled.length === 9)
  t.equal(peak, 3, 'three clients: global concurrency')
})

t.test('R18: schedule exhausted -> dead letter listed -> replay delivers', async t => {
  let healthy = false
  const receiver = await startReceiver((_req, res) => { res.writeHead(healthy ? 200 : 503).end() })
  t.teardown(receiver.close)
  const { queue, settled } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig({ attempts: 3 }))
  const event = makeEvent()
  const before = Date.now()
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1)
  t.equal(receiver.requests.length, 3, 'exactly `attempts` attempts, then nothing more')
  const letters = await queue.deadLetters()
  t.equal(letters.length, 1)
  t.same(letters[0]?.event, event)
  t.match(letters[0], { attempts: 3, reason: 'HTTP 503' })
  t.ok(letters[0]!.failedAt >= before)
  t.match(await queue.stats(), { deadLettered: 1, delivered: 0, delayed: 0 })
  await sleep(100)
  t.equal(receiver.requests.length, 3, 'no retry after dead-lettering')
  await queue.enqueue([event])
  await sleep(50)
  t.equal(receiver.requests.length, 3, 'enqueueing a dead letter again does nothing: replay is the way')

  healthy = true
  t.equal(await queue.replay('no-such-id'), false)
  t.equal(await queue.replay(event.id), true)
  await waitFor(() => settled.length === 2)
  t.same(settled[1]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.same(await queue.deadLetters(), [])
  t.equal(await queue.replay(event.id), false, 'a delivered event is no dead letter')
  t.equal(receiver.requests[3]?.headers['webhook-id'], event.id)
})

t.test('dead letters are bounded by deadLetterMax, newest first', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(410).end() })
  t.teardown(receiver.close)
  const { queue, settled } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig({ deadLetterMax: 2 }))
  const events = [makeEvent(), makeEvent(), makeEvent()]
  for (const event of events) {
    await queue.enqueue([event])
    await waitFor(() => settled.some(s => s.event.id === event.id))
  }
  t.same((await queue.deadLetters()).map(d => d.event.id), [events[2]!.id, events[1]!.id])
  t.same((await queue.deadLetters(1)).map(d => d.event.id), [events[2]!.id])
  t.equal(await queue.replay(events[0]!.id), false, 'the dropped one is gone')
})

t.test('enqueue is idempotent by event id: in one batch, while in flight, after delivery', async t => {
  const receiver = await startReceiver((_req, res) => { setTimeout(() => res.end(), 50) })
  t.teardown(receiver.close)
  const { queue, settled } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig())
  const event = makeEvent()
  await queue.enqueue([event, { ...event }])
  await waitFor(() => receiver.requests.length === 1)
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1)
  await queue.enqueue([{ ...event }])
  await sleep(100)
  t.equal(receiver.requests.length, 1)
  t.equal(settled.length, 1)
  t.match(await queue.stats(), { delivered: 1, waiting: 0, active: 0 })
})

t.test('remembered ids are bounded (rememberedIds): an id evicted long after delivery is accepted again', async t => {
  const receiver = await startReceiver((_req, res) => { res.end() })
  t.teardown(receiver.close)
  const { queue, settled } = harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig(), { rememberedIds: 2 })
  const [a, b, c] = [makeEvent(), makeEvent(), makeEvent()]
  await queue.enqueue([a!, b!, c!])
  await waitFor(() => settled.length === 3)
  await queue.enqueue([c!, a!])
  await waitFor(() => settled.length === 4)
  t.same(settled.map(s => s.event.id), [a!.id, b!.id, c!.id, a!.id])
})

t.test('a client without callbacks: skipped, neither retried nor dead-lettered', async t => {
  const { queue, settled, attempts } = harness(t, registryOf(makeClient({ clientId: 'quiet' })), makeConfig())
  await queue.enqueue([makeEvent({ clientId: 'quiet' }), makeEvent({ clientId: 'nobody' })])
  await waitFor(() => settled.length === 2)
  t.same(settled.map(s => s.result), [
    { kind: 'skipped', reason: 'client has no callback URL', attempts: 1 },
    { kind: 'skipped', reason: 'unknown client', attempts: 1 }
  ])
  t.equal(attempts.length, 2)
  t.match(await queue.stats(), { deadLettered: 0, delayed: 0, delivered: 0 })
})

t.test('close: stops retries, waits (bounded) for attempts in flight, refuses new work', async t => {
  const hang = await startReceiver(() => {})
  const failing = await startReceiver((_req, res) => { res.writeHead(500).end() })
  t.teardown(hang.close)
  t.teardown(failing.close)
  const clients = registryOf(makeClient({ clientId: 'h', callbackUrl: hang.url }), makeClient({ clientId: 'f', callbackUrl: failing.url }))
  const { queue, attempts } = harness(t, clients, makeConfig({ timeoutMs: 10_000, backoffBaseMs: 5_000, backoffMaxMs: 5_000 }),
    { closeGraceMs: 200, random: () => 0.99 })
  await queue.enqueue([makeEvent({ clientId: 'h' }), makeEvent({ clientId: 'f' })])
  await waitFor(() => attempts.length === 1 && hang.requests.length === 1)
  t.match(await queue.stats(), { active: 1, delayed: 1 })
  const started = Date.now()
  await queue.close()
  const took = Date.now() - started
  t.ok(took >= 190 && took < 5_000, `close waited for the hanging attempt up to its grace (${took} ms)`)
  t.match(await queue.stats(), { delayed: 0 })
  await t.rejects(queue.enqueue([makeEvent()]), /closed/)
  await t.rejects(queue.replay('x'), /closed/)
  await queue.close()
})
