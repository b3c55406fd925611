// Percentile and median math of the bench, the latency recorder and the error counter.
import t from 'tap'
import { ErrorCounter, LatencyRecorder, median, percentile, round } from '../../src/bench/stats.js'

t.test('percentile is nearest-rank on sorted samples', async (t) => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(hundred, 50), 50)
  t.equal(percentile(hundred, 90), 90)
  t.equal(percentile(hundred, 99), 99)
  t.equal(percentile(hundred, 100), 100)
  t.equal(percentile(hundred, 0), 1, 'p0 is the minimum')
  t.equal(percentile([7], 99), 7, 'one sample is every percentile')
  t.equal(percentile([1, 2, 3, 4], 50), 2, 'rank ceil(0.5 * 4) = 2')
  t.equal(percentile([1, 2, 3, 4], 51), 3)
  t.equal(percentile([10, 20, 30], 99), 30, 'ranks round up, never interpolate')
  t.ok(Number.isNaN(percentile([], 50)), 'no samples: NaN')
  t.throws(() => percentile([1], 101), RangeError)
  t.throws(() => percentile([1], Number.NaN), RangeError)
})

t.test('median takes the middle, or the mean of the two middles, ignoring non-finite values', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.equal(median([5, Number.NaN, 1, 3]), 3)
  t.ok(Number.isNaN(median([])))
  t.equal(round(1.23456, 2), 1.23)
  t.equal(round(Number.NaN), null)
})

t.test('LatencyRecorder summarises past its initial capacity and resets', async (t) => {
  const recorder = new LatencyRecorder()
  for (let i = 10_000; i >= 1; i--) recorder.record(i / 10)
  t.equal(recorder.count, 10_000)
  t.same(recorder.summary(), { count: 10_000, mean: 500.05, min: 0.1, p50: 500, p90: 900, p99: 990, max: 1000 })
  recorder.reset()
  t.same(recorder.summary(), { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 })
})

t.test('ErrorCounter groups by kind, largest first', async (t) => {
  const errors = new ErrorCounter()
  errors.add('ECONNRESET')
  errors.add('status 503', 3)
  t.equal(errors.total, 4)
  t.same(errors.toJSON(), { total: 4, byKind: { 'status 503': 3, ECONNRESET: 1 } })
  t.same(Object.keys(errors.toJSON().byKind), ['status 503', 'ECONNRESET'])
  errors.reset()
  t.same(errors.toJSON(), { total: 0, byKind: {} })
})
