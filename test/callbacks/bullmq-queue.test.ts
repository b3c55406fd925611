// The BullMQ queue against a private redis-server and real receivers: idempotency and its window, skip, R11-R13, R15,
// R17-R19, two instances, Redis outage, close.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import t from 'tap'
import { startRedis } from '../helpers/redis-server.js'
import { bullmqHarness, freshPrefix } from './bullmq-helpers.js'
import { makeClient, makeConfig, makeEvent, registryOf, sleep, startReceiver, waitFor } from './helpers.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })

const harness = bullmqHarness(redis.url)

/** Every key under `prefix` with its whole content (strings, hashes, lists, sets, sorted sets, streams) as text. */
async function dumpPrefix (prefix: string): Promise<Map<string, string>> {
  const admin = new Redis(redis.url)
  try {
    const out = new Map<string, string>()
    let cursor = '0'
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        const type = await admin.type(key)
        let value: unknown
        if (type === 'string') value = await admin.get(key)
        else if (type === 'hash') value = await admin.hgetall(key)
        else if (type === 'list') value = await admin.lrange(key, 0, -1)
        else if (type === 'set') value = await admin.smembers(key)
        else if (type === 'zset') value = await admin.zrange(key, 0, -1, 'WITHSCORES')
        else if (type === 'stream') value = await admin.xrange(key, '-', '+')
        else value = `(type ${type})`
        out.set(key, JSON.stringify(value))
      }
    } while (cursor !== '0')
    return out
  } finally {
    admin.disconnect()
  }
}

t.test('delivers once; enqueue is idempotent by event id, also after completion', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(receiver.close)
  const { queue, settled } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig())
  const event = makeEvent()
  await queue.enqueue([event, event])
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1)
  t.same(settled[0]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.equal(receiver.requests[0]?.headers['webhook-id'], event.id)
  t.equal(receiver.requests[0]?.url, '/callback/sign')
  t.same(JSON.parse(receiver.requests[0]!.body).commandId, event.commandId)
  // A relay re-enqueue after delivery (crash between enqueue and outbox ack) is ignored within the retention window.
  await queue.enqueue([event])
  await sleep(300)
  t.equal(receiver.requests.length, 1, 'one delivery')
  t.equal(settled.length, 1)
  t.same(await queue.stats(), { waiting: 0, active: 0, delayed: 0, deadLettered: 0, delivered: 1 })
  t.equal(await queue.replay(event.id), false, 'a delivered event is no dead letter')
})

t.test('the completed retention bounds the idempotency window (count and age, evicted as later jobs complete)', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(receiver.close)
  const { queue, settled } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig(),
    { completedRetention: { ageSeconds: 3_600, count: 2 } })
  const events = [makeEvent(), makeEvent(), makeEvent()]
  for (const event of events) {
    await queue.enqueue([event])
    await waitFor(() => settled.some(s => s.event.id === event.id))
  }
  await queue.enqueue(events)
  await waitFor(() => settled.length === 4)
  await sleep(200)
  t.same(receiver.requests.map(req => req.headers['webhook-id']), [events[0]!.id, events[1]!.id, events[2]!.id, events[0]!.id],
    'only the event pushed out of the retained completed jobs is delivered again')
})

t.test('an event of a client without callback URL is completed without retries (skipped)', async t => {
  const { queue, settled, attempts } = await harness(t, registryOf(makeClient()), makeConfig())
  await queue.enqueue([makeEvent()])
  await waitFor(() => settled.length === 1)
  t.same(settled[0]?.result, { kind: 'skipped', reason: 'client has no callback URL', attempts: 1 })
  t.equal(attempts.length, 1)
  t.same(await queue.deadLetters(), [])
})

t.test('R11: 500 five times then 200: six attempts, one success, one webhook-id, the policy\'s delays', async t => {
  const receiver = await startReceiver((_req, res, i) => { res.writeHead(i < 5 ? 500 : 200).end() })
  t.teardown(receiver.close)
  const randoms = [0.6, 0.7, 0.8, 0.9, 0.95]
  let r = 0
  const { queue, settled, attempts } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })),
    makeConfig({ attempts: 6, backoffBaseMs: 10, backoffMaxMs: 1_000 }), { random: () => randoms[r++ % randoms.length]! })
  const event = makeEvent()
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1)
  t.same(settled[0]?.result, { kind: 'delivered', status: 200, attempts: 6 })
  t.equal(receiver.requests.length, 6)
  t.same(new Set(receiver.requests.map(req => req.headers['webhook-id'])), new Set([event.id]))
  t.same(attempts.map(a => a.report.attempt), [1, 2, 3, 4, 5, 6])
  const delays = attempts.map(a => a.report.nextDelayMs).filter((d): d is number => d !== undefined)
  t.same(delays, [6, 14, 32, 72, 152], 'full jitter over 10 * 2^(n-1), from policy.ts')
  for (let i = 1; i < receiver.requests.length; i++) {
    const gap = receiver.requests[i]!.at - receiver.requests[i - 1]!.at
    t.ok(gap >= delays[i - 1]! - 2, `attempt ${i + 1} waited ${gap} ms >= ${delays[i - 1]} ms`)
  }
})

t.test('R12/R18: 410 dead-letters at once, an exhausted schedule dead-letters; both listed; replay starts a fresh schedule', async t => {
  const plan: Record<string, number[]> = { '/gone/callback/sign': [410, 200], '/down/callback/sign': [500, 500, 500, 500, 500, 200] }
  const receiver = await startReceiver((req, res) => { res.writeHead(plan[req.url]!.shift() ?? 200).end() })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ clientId: 'gone', callbackUrl: `${receiver.url}/gone` }), makeClient({ clientId: 'down', callbackUrl: `${receiver.url}/down` }))
  const { queue, settled } = await harness(t, clients, makeConfig({ attempts: 3, backoffBaseMs: 5, backoffMaxMs: 20 }))
  const gone = makeEvent({ clientId: 'gone' })
  const down = makeEvent({ clientId: 'down' })
  await queue.enqueue([gone])
  await waitFor(() => settled.length === 1)
  await queue.enqueue([down])
  await waitFor(() => settled.length === 2)
  t.same(settled.map(s => s.result), [
    { kind: 'dead-lettered', reason: 'HTTP 410', attempts: 1 },
    { kind: 'dead-lettered', reason: 'HTTP 500', attempts: 3 }
  ])
  t.equal(receiver.requests.filter(req => req.url.startsWith('/gone')).length, 1, '410: no second attempt')
  const letters = await queue.deadLetters()
  t.same(letters.map(l => ({ id: l.event.id, attempts: l.attempts, reason: l.reason })), [
    { id: down.id, attempts: 3, reason: 'HTTP 500' },
    { id: gone.id, attempts: 1, reason: 'HTTP 410' }
  ], 'newest first')
  t.same(letters[0]?.event, down, 'the whole event')
  t.ok(letters[0]!.failedAt >= letters[1]!.failedAt && letters[0]!.failedAt <= Date.now())
  t.same((await queue.deadLetters(1)).map(l => l.event.id), [down.id])
  t.match(await queue.stats(), { deadLettered: 2, delivered: 0 })
  await queue.enqueue([gone])
  await sleep(200)
  t.equal(receiver.requests.filter(req => req.url.startsWith('/gone')).length, 1, 're-enqueue of a dead letter is ignored')

  t.equal(await queue.replay('cmd_unknown'), false)
  t.equal(await queue.replay(down.id), true)
  t.equal(await queue.replay(down.id), false, 'no longer a dead letter')
  // 500, 500, 200: only a fresh schedule (attempts reset) gets to the third attempt.
  await waitFor(() => settled.length === 3)
  t.same(settled[2]?.result, { kind: 'delivered', status: 200, attempts: 3 })
  t.same((await queue.deadLetters()).map(l => l.event.id), [gone.id])
  t.equal(await queue.replay(gone.id), true)
  await waitFor(() => settled.length === 4)
  t.same(settled[3]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.same(await queue.stats(), { waiting: 0, active: 0, delayed: 0, deadLettered: 0, delivered: 2 })
})

t.test('R18: dead letters are bounded by deadLetterMax (the oldest go)', async t => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(400).end() })
  t.teardown(receiver.close)
  const { queue, settled } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig({ deadLetterMax: 2 }))
  const events = [makeEvent(), makeEvent(), makeEvent()]
  for (const event of events) {
    await queue.enqueue([event])
    await waitFor(() => settled.some(s => s.event.id === event.id))
  }
  t.same((await queue.deadLetters()).map(l => l.event.id), [events[2]!.id, events[1]!.id])
})

t.test('R13: Retry-After is honoured, up to retryAfterMaxMs', async t => {
  const plan: Record<string, string[]> = { '/a/callback/sign': ['1'], '/b/callback/sign': ['3600'] }
  const receiver = await startReceiver((req, res) => {
    const retryAfter = plan[req.url]!.shift()
    if (retryAfter === undefined) res.writeHead(200).end()
    else res.writeHead(req.url.startsWith('/a') ? 503 : 429, { 'retry-after': retryAfter }).end()
  })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ clientId: 'a', callbackUrl: `${receiver.url}/a` }), makeClient({ clientId: 'b', callbackUrl: `${receiver.url}/b` }))
  const { queue, settled, attempts } = await harness(t, clients, makeConfig({ backoffBaseMs: 5, backoffMaxMs: 10, retryAfterMaxMs: 1_500 }))
  await queue.enqueue([makeEvent({ clientId: 'a' }), makeEvent({ clientId: 'b' })])
  await waitFor(() => settled.length === 2)
  const delayOf = (client: string): number | undefined => attempts.find(a => a.event.clientId === client)?.report.nextDelayMs
  t.equal(delayOf('a'), 1_000, 'Retry-After: 1')
  t.equal(delayOf('b'), 1_500, 'Retry-After: 3600, capped')
  for (const [client, min] of [['a', 1_000], ['b', 1_500]] as const) {
    const times = receiver.requests.filter(req => req.url.startsWith(`/${client}/`)).map(req => req.at)
    t.equal(times.length, 2)
    const gap = times[1]! - times[0]!
    t.ok(gap >= min - 2 && gap < 3_000, `${client}: waited ${gap} ms`)
  }
})

t.test('R15: a hanging client holds at most its perClientConcurrency slots; another client is served meanwhile', async t => {
  const receiver = await startReceiver((req, res) => { if (!req.url.startsWith('/slow')) res.writeHead(200).end() })
  t.teardown(receiver.close)
  const clients = registryOf(makeClient({ clientId: 'slow', callbackUrl: `${receiver.url}/slow` }), makeClient({ clientId: 'fast', callbackUrl: `${receiver.url}/fast` }))
  const config = makeConfig({ concurrency: 2, perClientConcurrency: 1, timeoutMs: 2_000, attempts: 1 })
  const { queue, settled } = await harness(t, clients, config)
  await queue.enqueue([makeEvent({ clientId: 'slow' }), makeEvent({ clientId: 'slow' }), makeEvent({ clientId: 'slow' })])
  await waitFor(() => receiver.requests.length === 1)
  const started = Date.now()
  await queue.enqueue([makeEvent({ clientId: 'fast' })])
  await waitFor(() => settled.some(s => s.event.clientId === 'fast'), 5_000)
  const waited = Date.now() - started
  t.ok(waited < 1_500, `the fast client was served in ${waited} ms while the slow one hangs (2000 ms timeout)`)
  t.equal(receiver.requests.filter(req => req.url.startsWith('/slow')).length, 1, 'one slow attempt at a time')
  await waitFor(() => receiver.requests.filter(req => req.url.startsWith('/slow')).length === 2, 10_000, 'the second slow attempt')
  const slow = receiver.requests.filter(req => req.url.startsWith('/slow'))
  t.ok(slow[1]!.at - slow[0]!.at >= 1_000, `the next slow attempt started after the first timed out (${slow[1]!.at - slow[0]!.at} ms)`)
  t.same(settled.filter(s => s.event.clientId === 'slow').map(s => s.result), [{ kind: 'dead-lettered', reason: 'timeout after 2000 ms', attempts: 1 }],
    'deferrals are not attempts')
})

t.test('R17: no API key, basic-auth password or signing secret anywhere in Redis', async t => {
  const plan: Record<string, number[]> = { '/ok/callback/sign': [200], '/fail/callback/sign': [500, 410] }
  const receiver = await startReceiver((req, res) => { res.writeHead(plan[req.url]!.shift() ?? 500).end() })
  t.teardown(receiver.close)
  const password = 'Pa55-w0rd-never-stored'
  const apiKey = '9f1c0e5d3b7a44c2a8e6f0d1b2c3a4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f'
  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`
  const common = { key: apiKey, callbackBasicAuth: `prime:${password}`, callbackSecret: secret }
  const clients = registryOf(
    makeClient({ ...common, clientId: 'ok', callbackUrl: `${receiver.url}/ok` }),
    makeClient({ ...common, clientId: 'fail', callbackUrl: `${receiver.url}/fail` }),
    makeClient({ ...common, clientId: 'none' }))
  const { queue, prefix, settled, log } = await harness(t, clients, makeConfig({ backoffBaseMs: 5 }))
  const events = ['ok', 'fail', 'none'].map(clientId => makeEvent({ clientId }))
  await queue.enqueue(events)
  await waitFor(() => settled.length === 3)
  t.ok(receiver.requests.some(req => req.headers.authorization !== undefined && req.headers['webhook-signature'] !== undefined), 'credentials were used')
  const dump = await dumpPrefix(prefix)
  const text = [...dump].map(([k, v]) => `${k}=${v}`).join('\n')
  t.ok(dump.size > 5, `${dump.size} keys scanned`)
  for (const event of events) t.ok(text.includes(event.id), 'the scan sees the jobs')
  t.ok(text.includes('HTTP 410'), 'and the failed reasons')
  const forbidden = { password, apiKey, secret, secretBody: secret.slice('whsec_'.length), basic: Buffer.from(`prime:${password}`).toString('base64') }
  for (const [name, value] of Object.entries(forbidden)) {
    t.notOk(text.includes(value), `${name} is not in Redis`)
    t.notOk(log.text().includes(value), `${name} is not in the logs`)
  }
})

t.test('R19: a worker killed with SIGKILL mid-delivery: the callback is delivered after restart', async t => {
  let release: (() => void) | undefined
  const receiver = await startReceiver((_req, res, i) => {
    if (i === 0) release = () => { res.destroy() } // the first attempt hangs until the test ends
    else res.writeHead(200).end()
  })
  t.teardown(async () => { release?.(); await receiver.close() })
  const prefix = freshPrefix()
  const fixture = fileURLToPath(new URL('./fixtures/bullmq-worker.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fixture,
    JSON.stringify({ redisUrl: redis.url, prefix, callbackUrl: receiver.url, lockDurationMs: 1_000, stalledIntervalMs: 500 })],
  { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await waitFor(() => out.includes('ready'), 30_000, 'the child worker')

  const producer = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig(), { prefix, role: 'api' })
  const event = makeEvent()
  await producer.queue.enqueue([event])
  await waitFor(() => receiver.requests.length === 1, 10_000, 'the first attempt')
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
  t.match(await producer.queue.stats(), { active: 1 }, 'the job is still active, its worker dead')

  const killedAt = Date.now()
  const restarted = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig(),
    { prefix, role: 'worker', lockDurationMs: 1_000, stalledIntervalMs: 500 })
  await waitFor(() => restarted.settled.length === 1, 15_000, 'delivery after restart')
  t.same(restarted.settled[0]?.result, { kind: 'delivered', status: 200, attempts: 1 }, 'the interrupted attempt is not counted')
  t.equal(receiver.requests.length, 2)
  t.equal(receiver.requests[1]?.headers['webhook-id'], event.id)
  t.ok(Date.now() - killedAt < 10_000, `redelivered ${Date.now() - killedAt} ms after the kill`)
  t.equal(producer.settled.length, 0, 'the api role delivers nothing')
  t.ok(restarted.log.lines.some(line => line.msg?.toString().includes('stalled') === true && line.eventId === event.id), 'the stall is logged')
})

t.test('two broker instances on one Redis: each event delivered once', async t => {
  const receiver = await startReceiver((_req, res) => { setTimeout(() => res.writeHead(200).end(), 5) })
  t.teardown(receiver.close)
  const prefix = freshPrefix()
  const clients = registryOf(makeClient({ callbackUrl: receiver.url }))
  const a = await harness(t, clients, makeConfig({ concurrency: 4, perClientConcurrency: 4 }), { prefix })
  const b = await harness(t, clients, makeConfig({ concurrency: 4, perClientConcurrency: 4 }), { prefix })
  const events = Array.from({ length: 40 }, () => makeEvent())
  await Promise.all([
    a.queue.enqueue(events),
    b.queue.enqueue(events),
    a.queue.enqueue(events.slice(0, 20)),
    b.queue.enqueue(events.slice(20))
  ])
  await waitFor(() => a.settled.length + b.settled.length === 40, 15_000)
  await sleep(300)
  t.equal(receiver.requests.length, 40)
  t.equal(new Set(receiver.requests.map(req => req.headers['webhook-id'])).size, 40, 'forty distinct ids')
  t.same(new Set([...a.settled, ...b.settled].map(s => s.result.kind)), new Set(['delivered']))
  t.comment(`deliveries per instance: ${a.settled.length} + ${b.settled.length}`)
})

/** Resolves once `check` resolves (retried every 50 ms), or throws after `timeoutMs`. */
async function eventually (check: () => Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(err as Error).message}`)
      await sleep(50)
    }
  }
}

t.test('Redis down: enqueue, ping and stats reject fast; the queue recovers by itself', async t => {
  const own = await startRedis()
  t.teardown(async () => { await own.destroy() })
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(receiver.close)
  const { queue, settled } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig(), { url: own.url })
  await queue.ping()
  await own.stop()
  await eventually(async () => { await queue.ping().then(() => { throw new Error('still up') }, () => {}) }, 5_000, 'the connection to notice')
  const calls = {
    enqueue: async () => { await queue.enqueue([makeEvent()]) },
    ping: async () => { await queue.ping() },
    stats: async () => { await queue.stats() }
  }
  for (const [name, call] of Object.entries(calls)) {
    const started = Date.now()
    await t.rejects(call(), `${name} rejects`)
    t.ok(Date.now() - started < 500, `${name} rejected in ${Date.now() - started} ms`)
  }
  await own.restart()
  await eventually(async () => { await queue.ping() }, 10_000, 'reconnection')
  const event = makeEvent()
  await queue.enqueue([event])
  await waitFor(() => settled.length === 1, 10_000, 'delivery after reconnection')
  t.equal(receiver.requests[0]?.headers['webhook-id'], event.id)
})

t.test('close() waits for an attempt in flight, then resolves; the job is completed', async t => {
  const receiver = await startReceiver((_req, res) => { setTimeout(() => res.writeHead(200).end(), 400) })
  t.teardown(receiver.close)
  const { queue, settled } = await harness(t, registryOf(makeClient({ callbackUrl: receiver.url })), makeConfig())
  await queue.enqueue([makeEvent()])
  await waitFor(() => receiver.requests.length === 1)
  const started = Date.now()
  await queue.close()
  t.equal(settled.length, 1, 'the attempt finished and was recorded before close resolved')
  t.ok(Date.now() - started < 3_000)
  await t.rejects(queue.enqueue([makeEvent()]), /closed/)
})

t.test('close() with its Redis down does not wait out the grace for a connection that is not coming back', async t => {
  const own = await startRedis()
  t.teardown(async () => { await own.destroy() })
  const { queue, log } = await harness(t, registryOf(makeClient({ callbackUrl: 'http://127.0.0.1:9/cb' })), makeConfig(), {
    url: own.url,
    closeGraceMs: 30_000
  })
  await queue.ping()
  await own.stop()
  await eventually(async () => { await queue.ping().then(() => { throw new Error('still up') }, () => {}) }, 5_000, 'the connection to notice')
  const started = Date.now()
  await queue.close()
  const tookMs = Date.now() - started
  t.ok(tookMs < 10_000, `close returned after ${tookMs} ms, not after the 30 s grace`)
  t.ok(log.lines.some(line => String(line.msg).includes('their Redis connection is down')), 'and said why')
})

t.test('close() is bounded by closeGraceMs; the abandoned job is delivered by another worker once its lock expires', async t => {
  const held: Array<() => void> = []
  const receiver = await startReceiver((_req, res, i) => {
    if (i === 0) held.push(() => { res.destroy() })
    else res.writeHead(200).end()
  })
  t.teardown(async () => { held.forEach(release => { release() }); await receiver.close() })
  const prefix = freshPrefix()
  const clients = registryOf(makeClient({ callbackUrl: receiver.url }))
  const first = await harness(t, clients, makeConfig({ timeoutMs: 5_000 }), {
    prefix,
    closeGraceMs: 300,
    lockDurationMs: 1_000,
    stalledIntervalMs: 500
  })
  const event = makeEvent()
  await first.queue.enqueue([event])
  await waitFor(() => receiver.requests.length === 1)
  const started = Date.now()
  await first.queue.close()
  t.ok(Date.now() - started < 2_000, `close returned after ${Date.now() - started} ms with an attempt still in flight`)
  t.ok(first.log.lines.some(line => String(line.msg).includes('closed before its attempts finished')), 'and said so')
  const second = await harness(t, clients, makeConfig(), { prefix, lockDurationMs: 1_000, stalledIntervalMs: 500 })
  await waitFor(() => second.settled.length === 1, 15_000, 'delivery by the second worker')
  t.same(second.settled[0]?.result, { kind: 'delivered', status: 200, attempts: 1 })
  t.equal(receiver.requests[1]?.headers['webhook-id'], event.id)
})
