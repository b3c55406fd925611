// R25: thousands of generated requests to every operation of the served OpenAPI document, on both stores: no 5xx, no hang,
// every answer's status, media type and body as the document says, every error a HERMOD_* body; the broker serves on after.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import type { BrokerConfig } from '../../src/config/types.js'
import { KEYS } from '../helpers/config.js'
import { redisUrlForTests } from '../helpers/redis-server.js'
import { dropPrefix, freshPrefix } from '../helpers/redis-store-fixtures.js'
import { fuzzConfig, startFuzzTarget } from './fuzz-target.js'
import { requestsForAll } from './request-arbitraries.js'

/** Requests per store: bounded, so that the file runs well under a minute on a loaded 2-core box. */
const REQUESTS_PER_STORE = 1500
/** Replays a failing run: FUZZ_SEED=<the seed the failure printed> (the memory run takes it, the Redis run that plus one). */
const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 30 : Number(process.env.FUZZ_SEED)

async function fuzz (t: Test, config: BrokerConfig, seed: number): Promise<void> {
  const target = await startFuzzTarget(t, config)
  const { operations, pool } = target
  t.ok(operations.length >= 30, `${operations.length} operations in the document`)
  const hits = new Map<string, Map<number, number>>()
  const started = performance.now()
  const property = fc.asyncProperty(requestsForAll(operations), async (request) => {
    const { status, problems, summary } = await target.check(request)
    const statuses = hits.get(request.operationId) ?? new Map<number, number>()
    hits.set(request.operationId, statuses.set(status, (statuses.get(status) ?? 0) + 1))
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${summary}`)
  })
  try {
    await fc.assert(property, { numRuns: REQUESTS_PER_STORE, seed, includeErrorInReport: true })
    t.pass(`${REQUESTS_PER_STORE} generated requests (seed ${seed}) answered as documented`)
  } catch (err) {
    t.fail(`a generated request was answered against the document (FUZZ_SEED=${seed} replays it)`, { diagnostic: true, report: String((err as Error).message).slice(0, 4000) })
  }
  const sent = [...hits.values()].reduce((n, s) => n + [...s.values()].reduce((a, b) => a + b, 0), 0)
  t.comment(`${sent} requests in ${Math.round(performance.now() - started)} ms; per operation: ` +
    [...hits].map(([id, s]) => `${id} ${[...s].map(([status, n]) => `${status}x${n}`).join(' ')}`).join(', '))
  t.same(operations.filter((op) => !hits.has(op.operationId)).map((op) => op.operationId), [], 'every operation was called')
  const succeeded = operations.filter((op) => [...(hits.get(op.operationId)?.keys() ?? [])].some((s) => s < 300)).length
  t.ok(succeeded >= operations.length / 2, `${succeeded} of ${operations.length} operations answered 2xx at least once (the generated requests are not all refused)`)

  const readiness = await pool.request({ method: 'GET', path: '/hermod/actuator/health/readiness' })
  t.equal(readiness.statusCode, 200, 'still ready after the run')
  await readiness.body.dump()
  const accepted = await pool.request({
    method: 'POST',
    path: '/hermod/rest/command/sign',
    headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime), 'content-type': 'application/json' },
    body: JSON.stringify({ signCommand: { params: {} } })
  })
  t.equal(accepted.statusCode, 200, 'still accepts commands after the run')
  await accepted.body.dump()
}

t.test('memory store, dev surface on: every operation, thousands of requests, valid and invalid keys', async (t) => {
  await fuzz(t, fuzzConfig(), seed)
})

t.test('redis store (127.0.0.1:6379 or REDIS_URL, a fresh key prefix), dev surface on, rate limits low enough to be reached', async (t) => {
  const url = redisUrlForTests() ?? 'redis://127.0.0.1:6379'
  const prefix = freshPrefix()
  t.teardown(() => dropPrefix(url, prefix))
  // Budgets a run reaches (about 200 command requests per client, dozens per known box): the 429s are checked too.
  const rateLimit = { enabled: true, windowMs: 60_000, perClientMax: 150, perBoxMax: 40, perAddressMax: 100_000 }
  await fuzz(t, fuzzConfig({ broker: { store: 'redis', redis: { url, prefix, options: {} }, rateLimit } }), seed + 1)
})
