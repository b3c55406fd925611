// Helpers of the rate-limit tests: a config with small budgets, the 429 checks, the Prometheus counters.
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BrokerConfig, RateLimitSettings } from '../../../src/config/types.js'
import { testConfig } from '../../helpers/config.js'

/** A test config with rate limits on and small budgets (overridable). */
export function limitedConfig (limits: Partial<RateLimitSettings> = {}, patch: Parameters<typeof testConfig>[0] = {}): BrokerConfig {
  const config = testConfig(patch)
  const rateLimit = { enabled: true, windowMs: 60_000, perClientMax: 3, perBoxMax: 3, perAddressMax: 100, ...limits }
  return { ...config, broker: { ...config.broker, rateLimit } }
}

/** Asserts a 429 HERMOD_RATE_LIMITED in the shape of every error, with a Retry-After within the window. */
type Answer = { statusCode: number, headers: Record<string, unknown>, body: string }

export function assertRateLimited (t: Test, res: Answer, windowSeconds = 60): void {
  t.equal(res.statusCode, 429)
  const body = JSON.parse(res.body)
  t.match(body, { statusCode: 429, code: 'HERMOD_RATE_LIMITED', error: 'Too Many Requests', message: /^Too many requests: at most \d+ requests per \d+ s/ })
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  const retryAfter = Number(res.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSeconds, `Retry-After ${String(res.headers['retry-after'])} is 1..${windowSeconds} s`)
}

/** The value of one Prometheus sample (`name{labels}`) on the app's metrics route, 0 when absent. */
export async function metricValue (app: FastifyInstance, sample: string): Promise<number> {
  const text = (await app.inject({ url: '/hermod/actuator/prometheus' })).body
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.slice(sample.length + 1))
}
