// One command through brokers on a Redis topology: accepted on one instance, listed, read and answered on another,
// its COMPLETED callback received; and a broker process that cannot use its store. What the TLS and natMap cluster tests check.
import { join } from 'node:path'
import type { Test } from 'tap'
import { spawnBroker } from '../helpers/broker-process.js'
import type { TopologyBrokers } from './topology-load.js'
import { acceptedFrom, timeUntil } from './helpers.js'

/** Posts a sign command to the named box `box` of group `group` and carries it to its callback; asserts every step. */
export async function roundTrip (t: Test, brokers: TopologyBrokers, group: string, box: string): Promise<void> {
  const [first, second] = brokers.apis
  t.equal((await first!.health('/readiness')).status, 200, 'ready')
  const sent = await first!.post('sign', { commandHeader: { timeout: 60, lifespan: 120, to: [box] }, signCommand: { tbs: 'abc' } }, brokers.keyOf(group))
  t.equal(sent.status, 200, `accepted (${JSON.stringify(sent.json ?? sent.error)?.slice(0, 300)})`)
  if (sent.status !== 200) return
  const command = acceptedFrom(sent)
  const d = command.destinations[0]!
  const listed = await second!.list(d.bid, d.token)
  t.equal(listed.status, 200, 'listed on the other instance')
  t.ok((listed.json?.messages as Array<{ mid: string }> | undefined)?.some((m) => m.mid === d.mid), 'the box lists the message')
  t.equal((await second!.read(d.bid, d.mid)).status, 200, 'read')
  t.equal((await second!.answer(d.bid, d.mid, 'OK', { jws: 'signed' })).status, 200, 'answered')
  const callback = (): { state?: string } | undefined => brokers.receiver.requests
    .map((r) => JSON.parse(r.body) as { commandId: string, state: string }).find((body) => body.commandId === command.commandId)
  t.ok(await timeUntil(async () => callback() !== undefined, 20_000) !== undefined, 'its callback arrived')
  t.equal(callback()?.state, 'COMPLETED')
}

/**
 * A broker process (the CLI, as deployed) on `env`'s Redis settings that cannot use its store: it listens, readiness
 * answers 503, and SIGTERM ends it (no hang). Returns its output and readiness body.
 */
export async function unusableStore (t: Test, env: Record<string, string>): Promise<{ output: string, readiness: string }> {
  const dir = t.testdir({ 'application.yml': 'server:\n  port: 0\n  address: 127.0.0.1\n  ssl:\n    enabled: false\nbroker:\n  store: redis\n' })
  const broker = await spawnBroker({ args: ['--config', join(dir, 'application.yml')], env })
  t.teardown(async () => { await broker.stop('SIGKILL') })
  let readiness = { status: 0, body: '' }
  await timeUntil(async () => {
    const res = await fetch(`${broker.url}/hermod/actuator/health/readiness`, { signal: AbortSignal.timeout(5_000) })
    readiness = { status: res.status, body: await res.text() }
    return res.status !== 200
  }, 10_000)
  t.equal(readiness.status, 503, `readiness 503 (${readiness.body.slice(0, 200)})`)
  const stopped = performance.now()
  const code = await broker.stop('SIGTERM')
  t.not(code, null, 'SIGTERM: it exited')
  const tookMs = performance.now() - stopped
  // BullMQ's worker would not close on a connection that never came up, so the broker waited out its grace (callbacks
  // timeout-ms + 1 s: 17-20 s, close-with-grace forcing the exit at 20 s); it now closes at once when its connection is
  // down (0.4 s here). 10 s stays far above that and below the 20 s of before.
  t.ok(tookMs < 10_000, `ended promptly, not after the callbacks' grace (${Math.round(tookMs)} ms)`, { output: broker.output().slice(-1500) })
  t.comment(`SIGTERM to exit with the store unusable: ${Math.round(tookMs)} ms`)
  return { output: broker.output(), readiness: readiness.body }
}
