// Long polls across a Redis failover, shared by the Cluster and the Sentinel tests: devices wait (wait=30) on named boxes of
// every group through one broker, the topology fails over, commands are posted through another broker, and every device
// must get its message well before its poll's 30 s deadline.
import type { Test } from 'tap'
import { acceptedFrom, ms, sleep, timeUntil, type Destination } from './helpers.js'
import { GROUPS, type TopologyBrokers } from './topology-load.js'

/** A message must reach its device this soon after its accept: far below the 30 s a lost wake-up would cost. */
const BOUND_MS = 10_000

/** A device on one box: long polls (wait=30) through `api` until a message shows up; re-polls after an empty or failed answer. */
interface Device { group: string, box: Destination, found: Promise<{ at: number, polls: number, pollStartedAt: number }> }

function device (brokers: TopologyBrokers, group: string, box: Destination, until: number): Device {
  const api = brokers.apis[1]!
  const found = (async () => {
    for (let polls = 1; performance.now() < until; polls++) {
      const pollStartedAt = performance.now()
      const listed = await api.list(box.bid, box.token, 30)
      const messages = listed.status === 200 ? listed.json.messages as Array<{ mid: string }> : []
      if (messages.length > 0) return { at: performance.now(), polls, pollStartedAt }
      if (listed.status !== 200) await sleep(200)
    }
    throw new Error(`device of ${group}: no message before the test's deadline`)
  })()
  found.catch(() => {})
  return { group, box, found }
}

/** Long polls held by the polling broker now (its gauge). */
async function waiting (brokers: TopologyBrokers): Promise<number> {
  const metrics = await brokers.apis[1]!.call('GET', '/hermod/actuator/prometheus')
  return Number(/^hermod_long_polls_waiting (\d+)$/m.exec(String(metrics.json))?.[1] ?? 0)
}

/**
 * One phase: two empty named boxes per group, a waiting device on each, `fail()`, then a command per box of the first
 * set (retried while its slot has no master), then, with the first devices' polls still held, one per box of the
 * second: each device must get its message within BOUND_MS of the accept (`healthy()` waits for the topology in
 * between). The second set's wake-ups travel over the subscriptions made before the failure, so they show that the
 * subscriptions themselves moved to the new master.
 */
export async function phase (
  t: Test, brokers: TopologyBrokers, name: string, fail: () => Promise<void>, healthy: () => Promise<void>
): Promise<void> {
  const first = await emptyBoxes(t, brokers, `${name}-a`)
  const second = await emptyBoxes(t, brokers, `${name}-b`)
  const until = performance.now() + 120_000
  const devices = (boxes: Map<string, Destination>): Device[] => GROUPS.map((group) => device(brokers, group, boxes.get(group)!, until))
  const waitingFirst = devices(first)
  const waitingSecond = devices(second)
  t.ok(await timeUntil(async () => await waiting(brokers) >= 2 * GROUPS.length, 15_000, 50) !== undefined, 'every device\'s long poll is held')
  await fail()
  await healthy()
  await check(t, waitingFirst, await postTo(t, brokers, first, name), name)
  await check(t, waitingSecond, await postTo(t, brokers, second, name), `${name}, the second boxes`)
}

/** An empty named box `desk-<name>` per group. */
async function emptyBoxes (t: Test, brokers: TopologyBrokers, name: string): Promise<Map<string, Destination>> {
  const boxes = new Map<string, Destination>()
  for (const group of GROUPS) {
    // The box exists once a command went to it; answered, it is empty, so the device's long poll waits.
    const sent = await brokers.apis[0]!.post('sign', { commandHeader: { timeout: 120, lifespan: 300, to: [`desk-${name}`] }, signCommand: { group } }, brokers.keyOf(group))
    t.equal(sent.status, 200, `box of ${group} created`)
    const d = acceptedFrom(sent).destinations[0]!
    t.equal((await brokers.apis[0]!.answer(d.bid, d.mid, 'OK', null)).status, 200)
    boxes.set(group, d)
  }
  return boxes
}

/** A command to each box through the third broker, retried on 503 while a slot has no master; group -> when accepted. */
async function postTo (t: Test, brokers: TopologyBrokers, boxes: Map<string, Destination>, name: string): Promise<Map<string, number>> {
  const acceptedAt = new Map<string, number>()
  await Promise.all(GROUPS.map(async (group) => {
    const body = { commandHeader: { timeout: 120, lifespan: 300, to: [boxes.get(group)!.to] }, signCommand: { group, after: name } }
    for (let attempt = 0; attempt < 300; attempt++) {
      const sent = await brokers.apis[2]!.post('sign', body, brokers.keyOf(group))
      if (sent.status === 200) { acceptedAt.set(group, sent.doneAt); return }
      t.equal(sent.status, 503, `only 503s while the slot moves (${sent.status ?? sent.error})`)
      await sleep(100)
    }
  }))
  t.equal(acceptedAt.size, GROUPS.length, 'a command accepted for every box')
  return acceptedAt
}

/** Each device got its message within BOUND_MS of its accept. */
async function check (t: Test, devices: Device[], acceptedAt: Map<string, number>, name: string): Promise<void> {
  const results = await Promise.all(devices.map(async (d) => ({ group: d.group, ...await d.found })))
  for (const r of results) {
    const delay = r.at - acceptedAt.get(r.group)!
    const how = r.pollStartedAt < acceptedAt.get(r.group)! ? 'a poll held since before the accept' : 're-poll'
    t.ok(delay < BOUND_MS, `${name}: ${r.group} got its message ${ms(delay)} after the accept (${how}, ${r.polls} polls)`)
  }
}
