// The front's view of its broker process (worker-state.ts) and the TLS options it sends it (messages.ts).
import t from 'tap'
import { tlsOptionsFromJson, tlsOptionsToJson } from '../../src/server/front/messages.js'
import { MAX_QUEUED_HANDOVERS, NOT_ALIVE_AFTER_MS, STALE_AFTER_MS, WorkerState } from '../../src/server/front/worker-state.js'

t.test('new connections go to the broker process only while it reports on time, sheds nothing and its queue is short', async (t) => {
  let now = 1000
  const state = new WorkerState(1000, () => now)
  t.notOk(state.takesConnections(), 'no beat yet')
  state.beat(false)
  t.ok(state.takesConnections())
  now += STALE_AFTER_MS + 1
  t.notOk(state.takesConnections(), 'a late heartbeat: its event loop turns slowly')
  t.ok(state.alive(), 'still alive for liveness')
  state.beat(true)
  t.notOk(state.takesConnections(), 'it sheds')
  now += 500
  state.beat(false)
  t.notOk(state.takesConnections(), 'held for holdMs after the last busy beat')
  now += 501
  state.beat(false)
  t.ok(state.takesConnections(), 'back once holdMs passed without shedding')
  state.queued = MAX_QUEUED_HANDOVERS
  t.notOk(state.takesConnections(), 'the handover queue is full')
  state.queued = 0
  now += NOT_ALIVE_AFTER_MS + 1
  t.notOk(state.alive(), 'no heartbeat for the liveness window: not alive')
})

t.test('TLS options cross the IPC channel as JSON, Buffers included', async (t) => {
  const options = { pfx: Buffer.from([0, 1, 2, 255]), passphrase: 'secret', minVersion: 'TLSv1.2' as const, ca: [Buffer.from('a'), 'b'] }
  const back = tlsOptionsFromJson(JSON.parse(JSON.stringify(tlsOptionsToJson(options))))
  t.same(back, options)
  t.ok(Buffer.isBuffer(back?.pfx))
  t.equal(tlsOptionsFromJson(JSON.parse(JSON.stringify(tlsOptionsToJson(null)))), null)
})
