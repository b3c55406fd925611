// R25: thousands of generated requests to every operation of the served OpenAPI document, on both stores: no 5xx, no hang,
// every answer's status, media type and body as the document says, every error a HERMOD_* body; the broker serves on after.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import type { BrokerConfig } from '../../src/config/types.js'
import { createBroker } from '../../src/server/broker.js'
import { KEYS, testConfig } from '../helpers/config.js'
import { redisUrlForTests } from '../helpers/redis-server.js'
import { dropPrefix, freshPrefix } from '../helpers/redis-store-fixtures.js'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { ADMIN, KnownIds, problemsOf, send, toHttp } from './fuzz-client.js'
import { operationsOf, type Operation } from './openapi-operations.js'
import { requestsForAll } from './request-arbitraries.js'

/** Requests per store: bounded, so that the file runs well under a minute on a loaded 2-core box. */
const REQUESTS_PER_STORE = 1500
/** Replays a failing run: FUZZ_SEED=<the seed the failure printed> (the memory run takes it, the Redis run that plus one). */
const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 30 : Number(process.env.FUZZ_SEED)

const devConfig = (patch: Parameters<typeof testConfig>[0] = {}): BrokerConfig =>
  testConfig({ ...patch, broker: { ...patch.broker, dev: { enabled: true }, devSink: true, maxLongPollSeconds: 5, admin: ADMIN } })

/** Posts a few commands through the API, so that generated requests can name real commands, boxes and messages. */
async function seedCommands (pool: Pool, known: KnownIds): Promise<void> {
  for (const [type, client, to] of [['sign', 'prime', ['@tmp']], ['authenticate', 'hag', ['john.doe', '@tmp']], ['ping', 'other', ['@tmp']], ['provision', 'prime', ['jane']]] as const) {
    const res = await pool.request({
      method: 'POST',
      path: `/hermod/rest/command/${type}`,
      headers: { 'x-api-key': apiKeyHeader(client, KEYS[client]), 'content-type': 'application/json' },
      body: JSON.stringify({ commandHeader: { lifespan: 600, timeout: 600, to } })
    })
    known.learn(await res.body.json() as Parameters<KnownIds['learn']>[0])
  }
}

async function fuzz (t: Test, config: BrokerConfig, seed: number): Promise<void> {
  const broker = await createBroker(config)
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  broker.start()
  const { port } = broker.app.server.address() as AddressInfo
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 })
  t.teardown(() => pool.close())

  const doc = await (await pool.request({ method: 'GET', path: '/hermod/v3/api-docs' })).body.json()
  const operations = operationsOf(doc)
  const byId = new Map(operations.map((op) => [op.operationId, op]))
  t.ok(operations.length >= 30, `${operations.length} operations in the document`)
  const known = new KnownIds()
  await seedCommands(pool, known)

  const hits = new Map<string, Map<number, number>>()
  const started = performance.now()
  const property = fc.asyncProperty(requestsForAll(operations), async (request) => {
    const operation = byId.get(request.operationId) as Operation
    const http = toHttp(request, operation, known)
    const answer = await send(pool, http)
    const statuses = hits.get(operation.operationId) ?? new Map<number, number>()
    hits.set(operation.operationId, statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1))
    if (answer.status === 200 && /^post[A-Z][a-z]+Command$/.test(operation.operationId)) known.learn(JSON.parse(answer.text))
    const problems = problemsOf(operation, http, answer)
    if (problems.length > 0) throw new Error(`${http.method} ${http.path}: ${problems.join('; ')}\n${answer.text.slice(0, 300)}`)
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
  await fuzz(t, devConfig(), seed)
})

t.test('redis store (127.0.0.1:6379 or REDIS_URL, a fresh key prefix), dev surface on', async (t) => {
  const url = redisUrlForTests() ?? 'redis://127.0.0.1:6379'
  const prefix = freshPrefix()
  t.teardown(() => dropPrefix(url, prefix))
  await fuzz(t, devConfig({ broker: { store: 'redis', redis: { url, prefix, options: {} } } }), seed + 1)
})
