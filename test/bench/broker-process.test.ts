// The broker under test as its own process: started on a generated config, probed, loaded briefly, stopped;
// a failed start is an error with its output.
import t from 'tap'
import { BrokerStartError, startBrokerProcess } from '../../src/bench/broker-process.js'
import { runLoad } from '../../src/bench/load-run.js'
import { processCpuSeconds, processRssBytes } from '../../src/bench/process-stats.js'

t.test('a started embedded broker takes a short bounded accept run, then stops', async (t) => {
  const broker = await startBrokerProcess({ store: 'memory', overrides: { 'broker.sweep-interval-ms': '100' } })
  t.teardown(() => broker.stop())
  t.match(broker.target, { origin: /^https:\/\/127\.0\.0\.1:\d+$/, prefix: '/hermod/rest' })
  t.match(broker.overrides, { 'broker.store': 'memory', 'broker.log.level': 'warn', 'broker.sweep-interval-ms': '100' })
  const result = await runLoad({ target: broker.target, scenario: 'accept', connections: 2, durationMs: 30_000, maxOperations: 10, warmupMs: 0, pids: { broker: broker.pid } })
  t.match(result, { accepted: { count: 10 }, errors: { total: 0 } })
  if (process.platform === 'linux') {
    t.type(broker.rssBytes(), 'number')
    t.ok(processCpuSeconds(broker.pid)! > 0)
    t.type(result.cpu.broker, 'number')
  }
  await broker.stop()
  t.equal(processRssBytes(broker.pid), null, 'the process is gone')
})

t.test('a broker that cannot start is a BrokerStartError carrying its message', async (t) => {
  const err = await startBrokerProcess({ store: 'memory', overrides: { 'broker.no-such-key': '1' } }).then(() => undefined, (e: unknown) => e)
  t.type(err, BrokerStartError)
  t.match((err as Error).message, /exited \(1\) during start-up: .*no-such-key/)
})
