// Rate limits on the Redis store: one budget shared by every instance, under the key prefix; Redis down lets requests through.
import { Writable } from 'node:stream'
import pino from 'pino'
import t, { type Test } from 'tap'
import { apiKeyHeader } from '../../../src/auth/api-key.js'
import { createBroker, type Broker } from '../../../src/server/broker.js'
import type { BrokerConfig } from '../../../src/config/types.js'
import { sleep } from '../../callbacks/helpers.js'
import { KEYS } from '../../helpers/config.js'
import { startRedis } from '../../helpers/redis-server.js'
import { adminClient, freshPrefix } from '../../helpers/redis-store-fixtures.js'
import { assertRateLimited, limitedConfig, metricValue } from './helpers.js'

const key = apiKeyHeader('prime', KEYS.prime)

async function startBroker (t: Test, config: BrokerConfig, logger?: pino.Logger): Promise<Broker> {
  const broker = await createBroker(config, logger === undefined ? {} : { logger })
  t.teardown(() => broker.close())
  await broker.app.ready()
  return broker
}

t.test('two instances on one Redis share the budgets: requests spread over both hit 429 at the shared limit', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const prefix = freshPrefix()
  const config = limitedConfig({ perClientMax: 6, perBoxMax: 4, perAddressMax: 100 }, { broker: { store: 'redis', redis: { url: redis.url, prefix, options: {} } } })
  const brokers = [await startBroker(t, config), await startBroker(t, config)]
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    const res = await brokers[i % 2]!.app.inject({ url: '/hermod/rest/command/1', headers: { 'x-api-key': key } })
    statuses.push(res.statusCode)
    if (res.statusCode === 429) assertRateLimited(t, res)
  }
  t.same(statuses, [404, 404, 404, 404, 404, 404, 429, 429], 'six requests in all, over both instances, then 429 on each')
  t.equal(await metricValue(brokers[0]!.app, 'hermod_rate_limited_total{limit="client"}'), 1)
  t.equal(await metricValue(brokers[1]!.app, 'hermod_rate_limited_total{limit="client"}'), 1)

  // The device side: one box's budget across both instances, too.
  const bid = '0b0a3c2e-8d5f-4a4e-9d61-2f8f3c1d7e55'
  const boxStatuses: number[] = []
  for (let i = 0; i < 5; i++) boxStatuses.push((await brokers[i % 2]!.app.inject({ url: `/hermod/rest/ms/${bid}?token=${bid}` })).statusCode)
  t.same(boxStatuses, [404, 404, 404, 404, 429])

  // Every counter is under the configured prefix, keyed by client id (never the API key) and box id.
  const admin = adminClient(t, redis.url)
  const keys = (await admin.keys('*')).sort()
  t.ok(keys.every((k) => k.startsWith(`${prefix}:`)), 'no key outside the prefix')
  t.ok(keys.includes(`${prefix}:rl:client:prime`))
  t.ok(keys.includes(`${prefix}:rl:box:${bid}`))
  t.ok(keys.includes(`${prefix}:rl:address:127.0.0.1`))
  t.notOk(keys.some((k) => k.includes(KEYS.prime) || k.includes(key)), 'the API key is in no key')
  const ttl = await admin.pttl(`${prefix}:rl:client:prime`)
  t.ok(ttl > 0 && ttl <= 60_000, 'the counter expires with its window')
})

t.test('Redis down: requests are let through uncounted, with one throttled warning; counted again once it is back', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const lines: Array<{ msg: string, source?: string, err?: { message: string } }> = []
  const logger = pino({ level: 'warn' }, new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } }))
  const config = limitedConfig({ perClientMax: 3, perBoxMax: 3 }, { broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} } } })
  const broker = await startBroker(t, config, logger)
  const app = broker.app
  await redis.stop()
  // Requests that need no store answer as ever, well past the budget: the limiter never turns into a 5xx.
  for (let i = 0; i < 10; i++) {
    const command = await app.inject({ url: '/hermod/rest/command/not-an-id', headers: { 'x-api-key': key } })
    t.equal(command.statusCode, 404)
    t.equal(command.json().code, 'HERMOD_COMMAND_NOT_FOUND')
    t.equal((await app.inject({ url: '/hermod/rest/ms/not-a-box?token=x' })).json().code, 'HERMOD_BOX_NOT_FOUND')
  }
  // Those that need the store get the store's own 503, not an error of the limiter.
  const stored = await app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key } })
  t.equal(stored.statusCode, 503)
  t.equal(stored.json().code, 'HERMOD_STORE_UNAVAILABLE')
  t.ok(await metricValue(app, 'hermod_rate_limit_failures_total') >= 30, 'every uncounted request is counted in the metrics')
  const warnings = lines.filter((l) => l.msg.startsWith('rate limit not counted') && l.source === 'rate-limit count')
  // Throttled: one line per distinct error text within 5 s, not one per request.
  t.ok(warnings.length >= 1 && warnings.length <= 3, `${warnings.length} warnings for 31 uncounted requests`)
  t.equal(new Set(warnings.map((w) => w.err?.message)).size, warnings.length, 'no error text twice')
  t.notOk(JSON.stringify(lines).includes(KEYS.prime), 'no secret in the log')

  await redis.restart()
  let limited = false
  for (let i = 0; i < 100 && !limited; i++) {
    limited = (await app.inject({ url: '/hermod/rest/command/1', headers: { 'x-api-key': key } })).statusCode === 429
    if (!limited) await sleep(100)
  }
  t.ok(limited, 'the budget applies again once Redis is back')
})

t.test('a hung Redis (answers nothing): each count gives up after its budget and the request is served', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const config = limitedConfig({ perClientMax: 1 }, { broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} } } })
  const broker = await startBroker(t, config)
  redis.pause()
  t.teardown(() => { redis.resume() })
  for (let i = 0; i < 3; i++) {
    const res = await broker.app.inject({ url: '/hermod/rest/command/not-an-id', headers: { 'x-api-key': key } })
    t.equal(res.statusCode, 404, 'served past the budget of 1: not counted, not held')
  }
  t.equal(await metricValue(broker.app, 'hermod_rate_limit_failures_total'), 3)
})
