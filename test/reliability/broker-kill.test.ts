// R1: a broker process SIGKILLed at random points under accept load, restarted, several rounds: every 2xx
// command (and every 2xx answer) is there and whole afterwards; no half-written command in Redis.
import t from 'tap'
import { once } from 'node:events'
import { waitFor } from '../callbacks/helpers.js'
import { freePort } from '../helpers/redis-server.js'
import {
  Api, acceptedFrom, checkStoreConsistency, checkWhole, kind, runLoad, sleep, startBrokerProcess, startInProcessBroker, tally,
  tallyCallbacks, startScenario, type Accepted, type Outcome
} from './helpers.js'

const ROUNDS = 5
const WORKERS = 8
/** Per round: at most this many accepts are attempted; the kill comes after a random number of 2xx below it. */
const MAX_PER_ROUND = 400

t.test('R1: SIGKILL at random points under load, 5 rounds: every 2xx command present and whole', async (t) => {
  const { redis, receiver, prefix, file } = await startScenario(t, { appendonly: true, appendfsync: 'always' })
  const port = await freePort()

  const accepted: Accepted[] = []
  /** commandId -> state of a 2xx answer; answers without a 2xx leave the state open. */
  const answered = new Map<string, string>()
  const answerTried = new Set<string>()
  const beforeKill: Outcome[] = []
  const errorsBeforeKill: Outcome[] = []
  const all: Outcome[] = []

  for (let round = 1; round <= ROUNDS; round++) {
    const broker = await startBrokerProcess(file, port)
    const api = new Api(broker.url, { timeoutMs: 10_000 })
    const killAfter = 10 + Math.floor(Math.random() * 250)
    let roundAccepted = 0
    let killAt = Infinity
    const load = runLoad({ workers: WORKERS, maxIterations: MAX_PER_ROUND, maxMs: 15_000 }, async (i) => {
      const externalId = `r${round}-${i}`
      const to = i % 4 === 0 ? ['@tmp', `user-${i % 7}`] : ['@tmp']
      const o = await api.post('sign', { commandHeader: { timeout: 600, lifespan: 900, to, externalId }, signCommand: { params: { tbs: 'eA==', i } } })
      all.push(o)
      if (o.sentAt < killAt && o.doneAt < killAt) {
        beforeKill.push(o)
        if (o.error !== undefined) errorsBeforeKill.push(o)
      }
      if (o.status === 200) {
        const a = acceptedFrom(o, externalId)
        accepted.push(a)
        roundAccepted++
        if (i % 5 === 0) {
          const d = a.destinations[i % 2 === 0 ? 0 : a.destinations.length - 1]!
          answerTried.add(a.commandId)
          const answer = await api.answer(d.bid, d.mid, i % 10 === 0 ? 'OK' : 'REJECTED', { signature: `sig-${externalId}` })
          if (answer.status === 200) answered.set(a.commandId, answer.json.state)
        }
      } else if (o.error !== undefined) {
        await sleep(10) // the broker is gone: do not spin
      }
    })
    await waitFor(() => roundAccepted >= killAfter || all.length >= MAX_PER_ROUND * round, 20_000, `${killAfter} accepts in round ${round}`)
    killAt = performance.now()
    const exited = once(broker.child, 'exit')
    broker.child.kill('SIGKILL')
    await exited
    load.stop()
    await load.done
    await api.close()
    t.comment(`round ${round}: killed after ${roundAccepted} 2xx of this round (target ${killAfter}); ${accepted.length} 2xx commands so far`)
  }

  t.same(errorsBeforeKill.map(kind), [], 'no request failed while the broker was up')
  const statuses = tally(beforeKill.filter((o) => o.status !== undefined))
  t.same(Object.keys(statuses), ['200'], `every answer before a kill was 200 (${JSON.stringify(statuses)})`)
  t.equal(new Set(accepted.map((a) => a.commandId)).size, accepted.length, 'command ids are unique across restarts')
  t.ok(accepted.length >= ROUNDS * 10, `${accepted.length} commands accepted in all`)

  // Verify through the API of a fresh broker (in-process, same Redis) and in Redis.
  const verifier = await startInProcessBroker(redis.url, prefix, `${receiver.url}/cb`)
  t.teardown(() => verifier.close())
  const api = verifier.api
  const checkStarted = performance.now()
  const whole = await checkWhole(api, accepted, (a) => {
    const state = answered.get(a.commandId)
    if (state !== undefined) return [state]
    return answerTried.has(a.commandId) ? ['IN_PROGRESS', 'COMPLETED', 'REJECTED'] : ['IN_PROGRESS']
  })
  t.same(whole.missing.map((a) => a.commandId), [], 'every 2xx command is present with its destinations')
  t.same(whole.problems, [], 'every 2xx command is whole: status, device read, box listing, state of a 2xx answer')
  const store = await checkStoreConsistency(redis.url, prefix, api, new Set(accepted.map((a) => a.commandId)))
  t.same(store.problems, [], 'no half-written command in Redis: records, deadlines, box index and box entries agree')
  t.ok(store.records >= accepted.length, 'every 2xx command has its record')
  t.comment(`checked ${accepted.length} 2xx commands (${answered.size} with a 2xx answer) and ${store.records} records in ${((performance.now() - checkStarted) / 1000).toFixed(1)} s; ` +
    `${store.records - accepted.length} accepts reached Redis without their 2xx reaching the client (in flight at a kill)`)

  // Callbacks of the 2xx answers: never a wrong or a second event. An attempt in flight at a SIGKILL is only
  // retried once its BullMQ lock expires (30 s), so delivery of all of them is reported, not awaited.
  await waitFor(() => tallyCallbacks(receiver.requests).ids.size >= answered.size, 5_000, 'callbacks').catch(() => {})
  const callbacks = tallyCallbacks(receiver.requests)
  const wrong: string[] = []
  for (const [commandId, states] of callbacks.states) {
    const expected = answered.get(commandId)
    if (states.length !== 1) wrong.push(`${commandId}: ${states.join(',')}`)
    else if (expected !== undefined && states[0] !== expected) wrong.push(`${commandId}: ${states[0]!} instead of ${expected}`)
    else if (expected === undefined && !answerTried.has(commandId)) wrong.push(`${commandId}: a callback for an unanswered command`)
  }
  t.same(wrong, [], 'one callback event per command, with the state of its answer')
  const delivered = [...answered.keys()].filter((id) => callbacks.ids.has(id)).length
  t.comment(`callbacks: ${delivered} of ${answered.size} 2xx answers delivered within 5 s after the checks (${callbacks.deliveries} deliveries in all)`)
})
