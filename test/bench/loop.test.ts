// The load loop stops at its operation count or its time bound, whichever comes first, and never exceeds its concurrency.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { runLoop } from '../../src/bench/loop.js'
import { progressLine } from '../../src/bench/progress.js'

t.test('closed loop: exactly maxOperations, at most `concurrency` in flight', async (t) => {
  let inFlight = 0
  let most = 0
  const seen = new Set<number>()
  const result = await runLoop(async (i) => {
    seen.add(i)
    most = Math.max(most, ++inFlight)
    await sleep(1)
    inFlight--
  }, { concurrency: 4, maxOperations: 50, durationMs: 60_000 })
  t.equal(result.started, 50)
  t.equal(result.completed, 50)
  t.equal(seen.size, 50, 'every index once')
  t.ok(most <= 4 && most > 1, `concurrency respected (${most})`)
  t.equal(result.notStarted, 0)
})

t.test('closed loop: the time bound stops an endless count, and rejections count as done', async (t) => {
  const result = await runLoop(async () => {
    await sleep(5)
    throw new Error('boom')
  }, { concurrency: 2, maxOperations: Number.MAX_SAFE_INTEGER, durationMs: 100 })
  t.ok(result.started > 0 && result.started < 1000, `stopped after ${result.started}`)
  t.equal(result.completed, result.started, 'every started operation was awaited')
})

t.test('fixed rate: never more than rate x duration (+1), intendedAt spaced by 1/rate', async (t) => {
  const intended: number[] = []
  const result = await runLoop(async (_i, at) => { intended.push(at) }, { concurrency: 8, maxOperations: 1000, durationMs: 300, rate: 100 })
  t.ok(result.started <= 31, `started ${result.started}`)
  t.equal(result.completed, result.started)
  const sorted = [...intended].sort((a, b) => a - b)
  for (let i = 1; i < sorted.length; i++) t.ok(Math.abs(sorted[i]! - sorted[i - 1]! - 10) < 1e-6, 'scheduled 10 ms apart')
})

t.test('fixed rate: a full set of slots leaves due operations not started, reported', async (t) => {
  const result = await runLoop(async () => { await sleep(200) }, { concurrency: 1, maxOperations: 1000, durationMs: 100, rate: 1000 })
  t.equal(result.started, 1)
  t.ok(result.notStarted > 0, `not started: ${result.notStarted}`)
})

t.test('an abort signal stops the loop', async (t) => {
  const aborter = new AbortController()
  const result = await runLoop(async (i) => {
    if (i === 9) aborter.abort()
  }, { concurrency: 1, maxOperations: 1000, durationMs: 60_000, signal: aborter.signal })
  t.equal(result.started, 10)
})

t.test('progress line: the larger of time and count decides the fraction', async (t) => {
  t.match(progressLine('accept', 5000, 10, { durationMs: 10_000, maxOperations: 1000 }, 2), /^accept \[#{14}-{14}\] {2}50% 5\.0s 10 done 2\/s errors 2$/)
  t.match(progressLine('rt', 1000, 900, { durationMs: 10_000, maxOperations: 1000 }, 0), / 90% /)
})
