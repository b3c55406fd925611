// A tiny bounded load run against an in-process HTTPS broker: the result JSON's shape, round trips through the receiver, errors by kind.
import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { CallbackWaiters } from '../../src/bench/callback-waiters.js'
import type { BenchTarget } from '../../src/bench/hermod-api.js'
import { runLoad } from '../../src/bench/load-run.js'
import { startReceiver } from '../../src/bench/receiver.js'
import { createBroker } from '../../src/server/broker.js'
import { loadTlsMaterial } from '../../src/server/tls.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'

async function httpsBroker (t: Test): Promise<{ target: BenchTarget, waiters: CallbackWaiters }> {
  const waiters = new CallbackWaiters()
  const receiver = await startReceiver({ onCallback: (cb) => waiters.deliver(cb) })
  t.teardown(() => receiver.close())
  const tls = await loadTlsMaterial({ enabled: true, clientAuth: 'none' })
  const broker = await createBroker(testConfig({ allowedClients: testClients(receiver.url) }), { server: { https: tls!.options } })
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  broker.start()
  const port = (broker.app.server.address() as AddressInfo).port
  return { target: { origin: `https://127.0.0.1:${port}`, prefix: '/hermod/rest', apiKey: apiKeyHeader('prime', KEYS.prime) }, waiters }
}

const latencyShape = { count: Number, mean: Number, min: Number, p50: Number, p90: Number, p99: Number, max: Number }

t.test('a round-trip run is bounded by its request count and reports rates, latencies, errors and CPU', async (t) => {
  const { target, waiters } = await httpsBroker(t)
  const result = await runLoad({ target, scenario: 'roundtrip', connections: 4, durationMs: 60_000, maxOperations: 20, warmupMs: 0, callbacks: waiters, store: 'memory' })
  t.match(result, {
    scenario: 'roundtrip',
    target: `${target.origin}/hermod/rest`,
    store: 'memory',
    durationS: Number,
    connections: 4,
    accepted: { count: 20, perSecond: Number, latencyMs: latencyShape },
    roundTrips: { count: 20, perSecond: Number, latencyMs: latencyShape },
    errors: { total: 0, byKind: {} },
    cpu: { client: Number }
  })
  t.ok(result.roundTrips!.latencyMs.p50 >= result.accepted.latencyMs.p50, 'a round trip includes its accept')
  t.equal(waiters.unexpected, 0, 'every callback matched a waiting round trip')
  t.notOk('rate' in result, 'closed loop: no rate')
})

t.test('an accept run at a fixed rate reports the rate and what it could not start', async (t) => {
  const { target } = await httpsBroker(t)
  const result = await runLoad({ target, scenario: 'accept', connections: 2, durationMs: 60_000, maxOperations: 10, warmupMs: 0, rate: 200 })
  t.match(result, { scenario: 'accept', rate: 200, notStarted: 0, accepted: { count: 10 }, errors: { total: 0 } })
  t.notOk('roundTrips' in result)
})

t.test('failures are counted by kind, not thrown', async (t) => {
  const { target } = await httpsBroker(t)
  const result = await runLoad({ target: { ...target, apiKey: apiKeyHeader('prime', 'wrong') }, scenario: 'accept', connections: 2, durationMs: 60_000, maxOperations: 5, warmupMs: 0 })
  t.same(result.errors, { total: 5, byKind: { 'status 401': 5 } })
  t.equal(result.accepted.count, 0)
})

t.test('a round-trip run without the receiver\'s callbacks is refused', async (t) => {
  await t.rejects(runLoad({ target: { origin: 'https://127.0.0.1:1', prefix: '', apiKey: 'x' }, scenario: 'roundtrip', connections: 1, durationMs: 1, maxOperations: 1 }), /needs the receiver/)
})
