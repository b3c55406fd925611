// under-pressure's memory limits: derived from V8's heap limit unless configured (0 = off), and applied by the app.
import { getHeapStatistics } from 'node:v8'
import t from 'tap'
import { memoryLimits } from '../../src/server/app.js'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'

const MiB = 1024 * 1024
const noCgroup = { total: 16_384 * MiB, constrained: 0 }

t.test('absent limits are derived from the heap limit, capped by a cgroup memory limit', async t => {
  t.same(memoryLimits({}, 2_048 * MiB, noCgroup), { maxHeapUsedBytes: Math.floor(2_048 * MiB * 0.9), maxRssBytes: 3_072 * MiB })
  t.same(memoryLimits({}, 2_048 * MiB, { total: 16_384 * MiB, constrained: 1_024 * MiB }),
    { maxHeapUsedBytes: Math.floor(2_048 * MiB * 0.9), maxRssBytes: Math.floor(1_024 * MiB * 0.9) }, 'a container limit below 1.5 x heap')
  t.same(memoryLimits({}, 2_048 * MiB, { total: 16_384 * MiB, constrained: 2 ** 64 }), memoryLimits({}, 2_048 * MiB, noCgroup),
    'a "constraint" above the machine\'s memory is none')
  const here = memoryLimits({})
  const heapLimit = getHeapStatistics().heap_size_limit
  t.ok(here.maxHeapUsedBytes > 0 && here.maxHeapUsedBytes < heapLimit, `on this machine: heap ${here.maxHeapUsedBytes} of ${heapLimit}`)
  t.ok(here.maxRssBytes > 0, `rss ${here.maxRssBytes}`)
})

t.test('configured limits win; 0 turns a limit off', async t => {
  t.same(memoryLimits({ maxHeapUsedBytes: 0, maxRssBytes: 0 }, 2_048 * MiB, noCgroup), { maxHeapUsedBytes: 0, maxRssBytes: 0 })
  const configured = { maxHeapUsedBytes: 5 * MiB, maxRssBytes: 7 * MiB }
  t.same(memoryLimits(configured, 2_048 * MiB, noCgroup), configured)
})

/** POSTs pings until one is shed or `tries` are used (under-pressure samples every 200 ms). */
async function firstShed (broker: Awaited<ReturnType<typeof buildTestBroker>>, tries: number): Promise<number | undefined> {
  for (let i = 0; i < tries; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const res = await broker.post('ping', {})
    if (res.statusCode === 503) return res.statusCode
  }
  return undefined
}

t.test('the app applies them: a heap limit below the heap in use sheds, the derived default does not', async t => {
  const tiny = await buildTestBroker(t, testConfig({ broker: { overload: { maxHeapUsedBytes: 1 } } }))
  t.equal(await firstShed(tiny, 100), 503, 'shed past a configured heap limit')
  const derived = testConfig()
  derived.broker.overload = {
    maxEventLoopDelayMs: 0, maxInFlight: 0, maxInFlightPerConnection: 0, maxQueueMs: 0, shedPauseMs: 0, startGraceMs: 0
  }
  const normal = await buildTestBroker(t, derived)
  t.equal(await firstShed(normal, 10), undefined, 'the derived limits leave a normal heap alone')
})
