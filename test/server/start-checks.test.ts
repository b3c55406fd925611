// Start-up checks: a published API key beyond loopback is warned about loudly; placeholder keys and split roles
// on the embedded store are refused.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { assertStartable, isLoopbackAddress, isPublishedKey, startWarnings } from '../../src/server/start-checks.js'
import { testConfig } from '../helpers/config.js'

const DEMO_KEY = /key: ([0-9a-f]{64})/.exec(readFileSync(new URL('../../config/application.yml', import.meta.url), 'utf8'))![1]!
const demo = [{ clientId: 'demo', key: DEMO_KEY, group: 'demo', callbackMode: 'append' as const }]

t.test('the demo key of config/application.yml counts as published; a fresh key does not', async (t) => {
  t.ok(isPublishedKey(DEMO_KEY))
  t.notOk(isPublishedKey('0'.repeat(64)))
})

t.test('a published key on every interface: one loud warning naming the client; on loopback: none', async (t) => {
  const wide = startWarnings(testConfig({ allowedClients: demo, server: { address: '::' } }))
  t.equal(wide.length, 1)
  t.match(wide[0], /^SECURITY: the API key of client demo is published .* listens on ::, beyond loopback/)
  t.notMatch(wide[0], new RegExp(DEMO_KEY), 'the key itself is not printed')
  for (const address of ['127.0.0.1', '::1', 'localhost', '127.0.0.2']) {
    t.same(startWarnings(testConfig({ allowedClients: demo, server: { address } })), [], address)
  }
  t.same(startWarnings(testConfig({ allowedClients: [{ ...demo[0]!, key: 'f'.repeat(64) }], server: { address: '0.0.0.0' } })), [], 'a key of your own: no warning')
  t.notOk(isLoopbackAddress('0.0.0.0'))
})

t.test('refused: a CHANGE_ME key (any case), --role api|worker with the memory store; allowed: role all, or redis', async (t) => {
  t.throws(() => assertStartable(testConfig({ allowedClients: [{ ...demo[0]!, key: ' change_me ' }] }), 'all'), /allowed-clients\[0\] \(client-id demo\): the key is still the example placeholder/)
  t.throws(() => assertStartable(testConfig(), 'api'), /--role api needs the Redis store/)
  t.throws(() => assertStartable(testConfig(), 'worker'), /--role worker needs the Redis store/)
  t.doesNotThrow(() => assertStartable(testConfig(), 'all'))
  t.doesNotThrow(() => assertStartable(testConfig({ broker: { store: 'redis' } }), 'worker'))
})
