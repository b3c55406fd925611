// Lone surrogates in commandHeader are refused on both stores: Redis would turn "\ud800" and "\ud801" into one box (U+FFFD).
import t, { type Test } from 'tap'
import type { BrokerConfig } from '../../src/config/types.js'
import { illFormedStringPath } from '../../src/server/well-formed.js'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

t.test('illFormedStringPath names the first string or key with a lone surrogate', async (t) => {
  t.equal(illFormedStringPath({ to: ['a', 'ok 😀'], externalId: 'é€' }), undefined, 'surrogate pairs are well-formed')
  t.equal(illFormedStringPath({ to: ['a', '\ud800'] }), '.to[1]')
  t.equal(illFormedStringPath({ externalId: 'x\udfffy' }), '.externalId')
  t.equal(illFormedStringPath({ extra: { deep: [1, null, '\ud801'] } }), '.extra.deep[2]')
  t.equal(illFormedStringPath({ '\ud800': 1 }), ' (a member name)')
  t.equal(illFormedStringPath(42), undefined)
  let deep: unknown = '\ud800'
  for (let level = 0; level < 5; level++) deep = { [`k${String(level).repeat(100)}`]: deep }
  t.equal(illFormedStringPath(deep)!.length, 201, 'the path shown is bounded (200 characters and an ellipsis)')
})

async function refusesLoneSurrogates (t: Test, config: BrokerConfig): Promise<void> {
  const { post } = await buildTestBroker(t, config)
  for (const header of [
    { to: ['\ud800'] }, { to: ['\ud801'] }, { to: ['box', 'name\udc00'] },
    { externalId: '\ud800' }, { externalId: '\ud801' }, { priority: ['\ud800'] }
  ]) {
    const res = await post('sign', { commandHeader: header, signCommand: {} })
    t.equal(res.statusCode, 400, JSON.stringify(header))
    t.equal(res.json.code, 'HERMOD_INVALID_COMMAND')
    t.match(res.json.message, /not a well-formed Unicode string/)
  }
  const first = await post('sign', { commandHeader: { to: ['ok 😀'], externalId: 'ext 😀' }, signCommand: {} })
  const second = await post('sign', { commandHeader: { to: ['ok 😁'] }, signCommand: {} })
  t.equal(first.statusCode, 200, 'characters outside the BMP (surrogate pairs) are fine')
  t.not(first.json.destinations[0].bid, second.json.destinations[0].bid, 'two different names are two boxes')
}

t.test('memory store: "\\ud800" and "\\ud801" in to or externalId are a 400', async (t) => {
  await refusesLoneSurrogates(t, testConfig())
})

t.test('redis store: "\\ud800" and "\\ud801" in to or externalId are a 400', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  await refusesLoneSurrogates(t, testConfig({ broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} } } }))
})
