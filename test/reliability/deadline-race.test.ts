// R9: two in-process brokers on one Redis, 2000 commands with a 1 s timeout, each answered right around its
// deadline on the other instance while the first reads it and both sweepers run: every command ends in exactly
// one state, with exactly one callback carrying that state.
import t from 'tap'
import type { AttemptReport } from '../../src/callbacks/memory-queue.js'
import type { CallbackEvent } from '../../src/mailbox/types.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { testClients, testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { PRIME, ms, pct, runLoad, sleep, tallyCallbacks } from './helpers.js'

const N = 2_000
const IN_FLIGHT = 150
/** Answers are aimed at the deadline plus a uniform offset in [EARLY, LATE] ms (a little early: the broker needs a moment to run them). */
const EARLY = -60
const LATE = 40

interface Result {
  commandId: string
  answerAt: number
  deadline: number
  answer: number
  answerState?: string
  readAtDeadline: number
  late?: boolean
}

t.test('R9: answers at the deadline across two instances, 2000 commands', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const config = testConfig({
    allowedClients: testClients(`${receiver.url}/cb`),
    broker: {
      store: 'redis',
      redis: { url: redis.url, prefix: freshPrefix(), options: {} },
      sweepIntervalMs: 20,
      callbacks: { timeoutMs: 10_000, attempts: 20, backoffBaseMs: 20, backoffMaxMs: 200, concurrency: 32, perClientConcurrency: 16 }
    }
  })
  /** webhook-id -> outcomes of the attempts the brokers made (a redelivery must follow a failed attempt). */
  const attempts = new Map<string, string[]>()
  const onAttempt = (event: CallbackEvent, report: AttemptReport): void => {
    const r = report.result
    attempts.set(event.id, [...(attempts.get(event.id) ?? []), r.kind === 'delivered' ? 'delivered' : `${r.kind}: ${'reason' in r ? r.reason : ''}`])
  }
  const brokers: Broker[] = []
  for (let i = 0; i < 2; i++) {
    const broker = await createBroker(config, { queueHooks: { onAttempt } })
    t.teardown(() => broker.close())
    broker.start()
    await broker.app.ready()
    brokers.push(broker)
  }
  const inject = async (i: number, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ statusCode: number, json: any }> => {
    const res = await brokers[i % 2]!.app.inject({ method, url: `/hermod/rest${url}`, headers: { 'x-api-key': PRIME }, ...(payload === undefined ? {} : { payload: payload as object }) })
    return { statusCode: res.statusCode, json: res.body.length > 0 ? JSON.parse(res.body) : undefined }
  }

  const results: Result[] = []
  const failures: string[] = []
  let lag = 0
  const started = performance.now()
  const load = runLoad({ workers: IN_FLIGHT, maxIterations: N, maxMs: 60_000 }, async (i) => {
    const accepted = await inject(i, 'POST', '/command/sign', { commandHeader: { timeout: 1, lifespan: 60, externalId: `race-${i}` }, signCommand: { i } })
    if (accepted.statusCode !== 200) { failures.push(`accept ${i}: ${accepted.statusCode}`); return }
    const d = accepted.json.destinations[0]
    const read = await inject(i + 1, 'GET', `/ms/${d.bid}/${d.mid}`)
    if (read.statusCode === 410) {
      // This busy machine took longer than the timeout between accept and read: the timeout won outright.
      results.push({
        commandId: String(accepted.json.commandId),
        answerAt: Date.now(),
        deadline: Date.now(),
        answer: 410,
        readAtDeadline: 410,
        late: true
      })
      return
    }
    if (read.statusCode !== 200) { failures.push(`read ${i}: ${read.statusCode}`); return }
    const deadline = Date.parse(read.json.header.timeoutAt)
    // Aimed earlier by the recent lateness of the timers, so that the answers do go out around the deadline.
    const aim = deadline + EARLY + Math.round(Math.random() * (LATE - EARLY))
    const target = aim - lag
    if (target > Date.now()) {
      await sleep(target - Date.now())
      lag = 0.9 * lag + 0.1 * (Date.now() - target)
    }
    // The other instance answers; this one reads the message at the same moment (a read can write the TIMEOUT too).
    const sentAt = Date.now()
    const [answer, again] = await Promise.all([
      inject(i + 1, 'POST', `/ms/${d.bid}/${d.mid}`, { status: i % 3 === 0 ? 'REJECTED' : 'OK', response: { i } }),
      inject(i, 'GET', `/ms/${d.bid}/${d.mid}`)
    ])
    results.push({
      commandId: String(accepted.json.commandId),
      answerAt: sentAt,
      deadline,
      answer: answer.statusCode,
      answerState: answer.json?.state,
      readAtDeadline: again.statusCode
    })
  })
  await load.done
  t.comment(`${results.length} commands accepted, read and answered around their deadline in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  t.same(failures, [], 'every accept and first read succeeded')
  t.equal(results.length, N, `${N} commands`)
  t.same(results.filter((r) => ![200, 410].includes(r.answer)).map((r) => `${r.commandId}: ${r.answer}`), [], 'every answer: 200 (it decided) or 410 (the timeout won)')
  t.same(results.filter((r) => ![200, 409, 410].includes(r.readAtDeadline)).map((r) => `${r.commandId}: ${r.readAtDeadline}`), [], 'every read at the deadline: 200, 409 or 410')

  const late = results.filter((r) => r.late === true).length
  if (late > 0) t.comment(`${late} commands had timed out before their first read (accept-to-read took over 1 s)`)
  t.ok(late < N * 0.25, 'most commands were read before their deadline')
  const raced = results.filter((r) => r.late !== true)
  const offsets = raced.map((r) => r.answerAt - r.deadline)
  const won = raced.filter((r) => r.answer === 200)
  const close = raced.filter((r) => Math.abs(r.answerAt - r.deadline) <= 10)
  t.comment(`timer lateness compensated at the end: ${ms(lag)}`)
  t.comment(`answers sent ${ms(pct(offsets, 5))} .. ${ms(pct(offsets, 95))} (p5..p95) from the deadline; ${close.length} within ±10 ms; ` +
    `${won.length} decided by the device, ${raced.length - won.length} by the timeout`)
  t.ok(won.length >= 20 && raced.length - won.length >= 20, 'both outcomes happened, each at least 20 times (the race was real)')

  const waitStarted = performance.now()
  await waitFor(() => tallyCallbacks(receiver.requests).ids.size >= N, 60_000, 'a callback per command').catch(() => {})
  t.comment(`all callbacks arrived ${ms(performance.now() - waitStarted)} after the last answer`)
  await sleep(1_500)
  const callbacks = tallyCallbacks(receiver.requests)
  t.equal(callbacks.ids.size, N, `one callback event per command: ${N} distinct webhook-ids`)
  // Delivery is at least once: a webhook-id may arrive again only after an attempt the broker saw fail (e.g. it
  // timed out on this busy machine although the receiver had the request).
  const perId = new Map<string, number>()
  for (const r of receiver.requests) perId.set(String(r.headers['webhook-id']), (perId.get(String(r.headers['webhook-id'])) ?? 0) + 1)
  const repeated = [...perId].filter(([, n]) => n > 1)
  const unexplained = repeated.filter(([id, n]) => (attempts.get(id) ?? []).filter((a) => a !== 'delivered').length < n - 1)
  t.comment(`${callbacks.deliveries} deliveries for ${N} events; ${repeated.length} redelivered, after failed attempts: ${JSON.stringify([...new Set(repeated.flatMap(([id]) => (attempts.get(id) ?? []).filter((a) => a !== 'delivered')))].slice(0, 3))}`)
  t.same(unexplained.map(([id, n]) => `${id} x${n}: ${JSON.stringify(attempts.get(id))}`), [], 'no redelivery without a failed attempt before it')
  const problems: string[] = []
  const statuses = await Promise.all(results.map(async (r, i) => await inject(i, 'GET', `/command/${r.commandId}`)))
  results.forEach((r, i) => {
    const states = callbacks.states.get(r.commandId) ?? []
    const status = statuses[i]!.json?.state as string | undefined
    const expected = r.answer === 200 ? r.answerState : 'TIMEOUT'
    if (states.length !== 1) problems.push(`${r.commandId}: callbacks ${JSON.stringify(states)}`)
    else if (states[0] !== status) problems.push(`${r.commandId}: callback ${states[0]!}, status ${String(status)}`)
    else if (status !== expected) problems.push(`${r.commandId}: ${String(status)}, the answer said ${expected ?? '?'}`)
  })
  t.same(problems.slice(0, 20), [], 'every command: one state; one callback event with that state; the answer\'s reply agrees')
  t.equal(problems.length, 0, `${problems.length} commands with a problem`)
})
