// Pure delivery policy: status classification (R12, R14), Retry-After (R13), backoff and jitter (R11), exhaustion (R18).
import t from 'tap'
import { backoffDelay, classifyStatus, decideNext, parseRetryAfter } from '../../src/callbacks/policy.js'

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)
const config = { attempts: 6, backoffBaseMs: 100, backoffMaxMs: 1_000, retryAfterMaxMs: 5_000 }

t.test('2xx is delivered', async t => {
  for (const status of [200, 201, 202, 204, 299]) t.same(classifyStatus(status, undefined, NOW, 5_000), { kind: 'delivered', status })
})

t.test('R14: 3xx is a failure that ends delivery, naming the redirect', async t => {
  for (const status of [301, 302, 303, 307, 308]) {
    t.same(classifyStatus(status, '1', NOW, 5_000), { kind: 'give-up', reason: `HTTP ${status} (redirects are not followed)`, status })
  }
})

t.test('R12: 410 and 4xx other than 408/429 end delivery', async t => {
  for (const status of [400, 401, 403, 404, 405, 409, 410, 413, 422, 451]) {
    t.same(classifyStatus(status, '1', NOW, 5_000), { kind: 'give-up', reason: `HTTP ${status}`, status })
  }
})

t.test('408, 429 and 5xx are retried', async t => {
  for (const status of [408, 429, 500, 502, 503, 504, 599]) {
    t.same(classifyStatus(status, undefined, NOW, 5_000), { kind: 'retry', reason: `HTTP ${status}`, status })
  }
})

t.test('R13: Retry-After is read on retryable answers and capped', async t => {
  t.same(classifyStatus(429, '3', NOW, 5_000), { kind: 'retry', reason: 'HTTP 429', status: 429, retryAfterMs: 3_000 })
  t.same(classifyStatus(503, '3600', NOW, 5_000), { kind: 'retry', reason: 'HTTP 503', status: 503, retryAfterMs: 5_000 })
  t.same(classifyStatus(503, new Date(NOW + 2_000).toUTCString(), NOW, 5_000), { kind: 'retry', reason: 'HTTP 503', status: 503, retryAfterMs: 2_000 })
  t.same(classifyStatus(503, 'soon', NOW, 5_000), { kind: 'retry', reason: 'HTTP 503', status: 503 })
})

t.test('parseRetryAfter: delta-seconds and the three HTTP-date forms (RFC 9110 §10.2.3)', async t => {
  t.equal(parseRetryAfter('0', NOW), 0)
  t.equal(parseRetryAfter(' 120 ', NOW), 120_000)
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', NOW), 30_000, 'IMF-fixdate')
  t.equal(parseRetryAfter('Thursday, 01-Jan-26 12:00:30 GMT', NOW), 30_000, 'obsolete RFC 850 form')
  t.equal(parseRetryAfter('Thu Jan  1 12:00:30 2026', NOW), 30_000, 'asctime, GMT whatever the local zone')
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', NOW), 0, 'a date in the past means now')
  for (const bad of [undefined, '', '-5', '1.5', '5s', '0x10', 'tomorrow', '12:00']) t.equal(parseRetryAfter(bad, NOW), undefined, String(bad))
})

t.test('full jitter: within [0, min(max, base * 2^(n-1))), varying, envelope growing to the cap', async t => {
  for (let n = 1; n <= 8; n++) {
    const ceiling = Math.min(1_000, 100 * 2 ** (n - 1))
    t.equal(backoffDelay(n, config, { random: () => 0 }), 0)
    t.equal(backoffDelay(n, config, { random: () => 0.999999 }), ceiling - 1, `ceiling of retry ${n}`)
    const seen = new Set<number>()
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelay(n, config)
      t.ok(delay >= 0 && delay < ceiling, `retry ${n}: ${delay} in [0, ${ceiling})`)
      seen.add(delay)
    }
    t.ok(seen.size > 10, `retry ${n}: jitter spreads the delays (${seen.size} distinct of 50)`)
  }
  t.equal(backoffDelay(1_000, config, { random: () => 0.5 }), 500, 'a huge attempt number stays capped')
})

t.test('decorrelated jitter: within [base, min(max, previous * 3)]', async t => {
  let previous = config.backoffBaseMs
  const delays: number[] = []
  for (let n = 1; n <= 20; n++) {
    const delay = backoffDelay(n, config, { jitter: 'decorrelated', previousDelayMs: previous })
    t.ok(delay >= 100 && delay <= Math.min(1_000, previous * 3), `${delay} within [100, ${Math.min(1_000, previous * 3)}]`)
    delays.push(delay)
    previous = delay
  }
  t.ok(new Set(delays).size > 5, 'jitter spreads the delays')
  t.equal(backoffDelay(3, config, { jitter: 'decorrelated', previousDelayMs: 900, random: () => 0.999999 }), 1_000, 'capped')
  t.equal(backoffDelay(1, config, { jitter: 'decorrelated', random: () => 0 }), 100, 'starts at base')
})

t.test('decideNext: retries until `attempts` attempts, then dead letter with the last reason (R18)', async t => {
  const failure = { kind: 'retry' as const, reason: 'HTTP 500' }
  for (let made = 1; made < 6; made++) {
    const decision = decideNext(failure, made, config, { random: () => 0.5 })
    t.same(decision, { kind: 'retry', delayMs: Math.floor(0.5 * Math.min(1_000, 100 * 2 ** (made - 1))) })
  }
  t.same(decideNext(failure, 6, config), { kind: 'dead-letter', reason: 'HTTP 500' })
  t.same(decideNext(failure, 7, config), { kind: 'dead-letter', reason: 'HTTP 500' })
  t.same(decideNext({ kind: 'give-up', reason: 'HTTP 410' }, 1, config), { kind: 'dead-letter', reason: 'HTTP 410' })
  t.same(decideNext({ kind: 'delivered', status: 204 }, 3, config), { kind: 'delivered' })
})

t.test('decideNext: Retry-After is a lower bound on the delay, the backoff still applies when longer', async t => {
  t.same(decideNext({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 4_000 }, 1, config, { random: () => 0.5 }), { kind: 'retry', delayMs: 4_000 })
  t.same(decideNext({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 10 }, 4, config, { random: () => 0.5 }), { kind: 'retry', delayMs: 400 })
  t.same(decideNext({ kind: 'retry', reason: 'HTTP 503', retryAfterMs: 4_000 }, 6, config), { kind: 'dead-letter', reason: 'HTTP 503' },
    'Retry-After does not extend the schedule')
})
