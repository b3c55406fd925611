// R3: Redis stopped under load: fast 503 HERMOD_STORE_UNAVAILABLE (never a 500, never a hang), readiness DOWN;
// Redis back: the broker recovers by itself within 5 s, accepts again, and every callback is delivered once.
import t from 'tap'
import { waitFor } from '../callbacks/helpers.js'
import { freePort } from '../helpers/redis-server.js'
import { adminClient } from '../helpers/redis-store-fixtures.js'
import {
  Api, acceptedFrom, kind, ms, pct, runLoad, sentSince, sleep, startBrokerProcess, tally, tallyCallbacks, timeUntil,
  startScenario, type Accepted, type Outcome
} from './helpers.js'

const WORKERS = 8
const DOWN_MS = 3_000
/** Accepts answered while Redis is down before it comes back: the outage must be seen, not slept through. */
const OUTAGE_ANSWERS = 20

t.test('R3: Redis stopped and restarted under load', async (t) => {
  const { redis, receiver, prefix, file } = await startScenario(t, { appendonly: true, appendfsync: 'always' })
  const broker = await startBrokerProcess(file, await freePort())
  t.teardown(() => broker.stop('SIGKILL'))
  const api = new Api(broker.url, { timeoutMs: 5_000 })
  t.teardown(() => api.close())

  const accepted: Accepted[] = []
  /** commandId -> outcome of the device's answer (200: decided by it). */
  const answers = new Map<string, Outcome>()
  const posts: Outcome[] = []
  const deviceCalls: Outcome[] = []
  // Each iteration: accept a command with a 2 s timeout; answer every other one at once, leave the rest to time out.
  const load = runLoad({ workers: WORKERS, maxIterations: 20_000, maxMs: 45_000 }, async (i) => {
    const externalId = `r3-${i}`
    const o = await api.post('authenticate', { commandHeader: { timeout: 2, lifespan: 120, externalId }, authCommand: { i } })
    posts.push(o)
    if (o.status === 200) {
      const a = acceptedFrom(o, externalId)
      accepted.push(a)
      if (i % 2 === 0) {
        const d = a.destinations[0]!
        const answer = await api.answer(d.bid, d.mid, 'OK', { i })
        deviceCalls.push(answer)
        answers.set(a.commandId, answer)
      }
    } else {
      await sleep(20)
    }
  })

  await sleep(1_500)
  const beforeOutage = accepted.length
  await redis.stop()
  const downAt = performance.now()
  // While it is down: the health endpoints and a device reading a message accepted before.
  const probes: { readiness: Outcome[], liveness: Outcome[], reads: Outcome[] } = { readiness: [], liveness: [], reads: [] }
  const early = accepted[0]!.destinations[0]!
  // At least DOWN_MS, and until OUTAGE_ANSWERS accepts sent during it were answered (at most 20 s).
  const outageSeen = (): boolean => sentSince(posts, downAt) >= OUTAGE_ANSWERS || performance.now() - downAt > 20_000
  while (performance.now() - downAt < DOWN_MS || !outageSeen()) {
    probes.readiness.push(await api.health('/readiness'))
    probes.liveness.push(await api.health('/liveness'))
    probes.reads.push(await api.read(early.bid, early.mid))
    await sleep(200)
  }
  const upStartAt = performance.now()
  await redis.restart()
  const upAt = performance.now()
  const ready = await timeUntil(async () => (await api.health('/readiness')).status === 200, 10_000)
  const acceptedAgain = await timeUntil(async () => posts.some((o) => o.status === 200 && o.sentAt >= upAt), 10_000, 10)
  const firstAccept = posts.filter((o) => o.status === 200 && o.sentAt >= upAt).sort((a, b) => a.doneAt - b.doneAt)[0]
  const acceptedAfter = accepted.length
  await sleep(1_000)
  load.stop()
  await load.done

  // While down: every accept a fast, clean 503.
  const during = posts.filter((o) => o.sentAt >= downAt && o.doneAt <= upStartAt)
  const latencies = during.map((o) => o.doneAt - o.sentAt)
  t.comment(`Redis down ${((upStartAt - downAt) / 1000).toFixed(1)} s: ${during.length} accepts answered ${JSON.stringify(tally(during))}; latency p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}, max ${ms(Math.max(...latencies))}`)
  t.ok(during.length >= OUTAGE_ANSWERS, 'the load went on during the outage')
  t.same(during.filter((o) => !(o.status === 503 && o.json?.code === 'HERMOD_STORE_UNAVAILABLE')).map(kind), [], 'every accept while Redis was down: 503 HERMOD_STORE_UNAVAILABLE')
  t.ok(during.every((o) => o.headers?.['retry-after'] !== undefined), 'with Retry-After')
  t.ok(Math.max(...latencies) < 1_000, 'each within 1 s: no hang')
  const outcomes = [...posts, ...deviceCalls]
  t.same(outcomes.filter((o) => o.error !== undefined || (o.status! >= 500 && o.status !== 503)).map(kind), [], 'never a 500, never a request without an answer, before, during or after')
  t.ok(probes.readiness.length > 0 && probes.readiness.every((o) => o.status === 503 && o.json?.status === 'DOWN'), `readiness 503 DOWN while Redis is down (${JSON.stringify(tally(probes.readiness))})`)
  t.ok(probes.liveness.every((o) => o.status === 200 && o.json?.status === 'UP'), 'liveness stays UP')
  t.ok(probes.reads.every((o) => o.status === 503 && o.json?.code === 'HERMOD_STORE_UNAVAILABLE' && o.doneAt - o.sentAt < 1_000), `device reads: fast 503 (${JSON.stringify(tally(probes.reads))})`)

  // Recovery.
  t.comment(`recovery after Redis answered PING: readiness UP in ${ms(ready)}, first 2xx accept ${ms(firstAccept === undefined ? undefined : firstAccept.doneAt - upAt)} (redis restart took ${ms(upAt - upStartAt)})`)
  t.ok(ready !== undefined && ready < 5_000, 'ready again within 5 s, by itself')
  t.ok(acceptedAgain !== undefined && firstAccept !== undefined && firstAccept.doneAt - upAt < 5_000, 'accepts again within 5 s')
  t.ok(accepted.length > acceptedAfter || acceptedAfter > beforeOutage, `new commands accepted after the outage (${beforeOutage} before, ${accepted.length} in all)`)

  // Callbacks: every command accepted (before, around and after the outage) gets exactly one, with its state.
  const waitStarted = performance.now()
  await waitFor(() => { const now = tallyCallbacks(receiver.requests); return accepted.every((a) => now.ids.has(a.commandId)) }, 20_000, 'every callback').catch(() => {})
  t.comment(`callbacks: ${tallyCallbacks(receiver.requests).ids.size} commands called back ${ms(performance.now() - waitStarted)} after the load stopped (${receiver.requests.length} deliveries)`)
  await sleep(1_000)
  const callbacks = tallyCallbacks(receiver.requests)
  const problems: string[] = []
  const held: Accepted[] = []
  for (const a of accepted) {
    const states = callbacks.states.get(a.commandId) ?? []
    const answer = answers.get(a.commandId)
    const expected = answer === undefined ? ['TIMEOUT'] : answer.status === 200 ? ['COMPLETED'] : ['COMPLETED', 'TIMEOUT']
    if (states.length === 0) held.push(a)
    else if (states.length !== 1) problems.push(`${a.commandId}: callbacks ${JSON.stringify(states)}`)
    else if (!expected.includes(states[0]!)) problems.push(`${a.commandId}: ${states[0]!}, expected ${expected.join('|')}`)
  }
  t.same(problems.slice(0, 20), [], `each of the ${accepted.length} commands: one callback event at most, with its state`)
  // A callback job BullMQ had just moved to active when Redis went away is not lost, but only BullMQ's stalled-job
  // check gives it back (stalledInterval 30 s: 30-60 s later); a job parked behind its client's concurrency whose
  // wake-up fell into the outage comes back after its fallback delay (bullmq-parking.ts: up to ~39 s here, seen in
  // a CI run). Either way it is in BullMQ's active list or its delayed set, nowhere else.
  const admin = adminClient(t, redis.url)
  const active = await admin.lrange(`${prefix}:{cb}:callbacks:active`, 0, -1)
  const parked = await admin.zrange(`${prefix}:{cb}:callbacks:delayed`, 0, -1)
  const inBullmq = [...active, ...parked]
  const lost = held.filter((a) => !inBullmq.some((id) => id.startsWith(`cmd_${a.commandId}_`)))
  t.comment(`${held.length} callbacks not delivered within 20 s, ${held.length - lost.length} of them active or parked in BullMQ ` +
    `(${active.length} active, ${parked.length} delayed): ${JSON.stringify(held.map((a) => a.commandId))}`)
  t.same(lost.map((a) => a.commandId), [], 'every other command was called back; none is lost')
  t.ok(held.length <= 16, 'at most the worker concurrency is held')
  const refused = accepted.filter((a) => answers.get(a.commandId)?.status === 503)
  t.comment(`${answers.size} answers sent, ${refused.length} refused with 503 during the outage`)
  const status = await Promise.all(refused.slice(0, 50).map(async (a) => [a, await api.status(a.commandId)] as const))
  const disagreeing = status.filter(([a, s]) => !held.includes(a) && s.json?.state !== callbacks.states.get(a.commandId)?.[0])
  t.same(disagreeing.map(([a]) => a.commandId), [],
    'an answer refused during the outage: the status query and the callback agree on the state')
})
