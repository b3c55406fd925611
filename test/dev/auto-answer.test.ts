// Auto-answer: rules answer accepted commands as the virtual device (realistic, canned, reject, ignore), never a client they do not name,
// each command once across two Redis-store instances; the rules can be replaced at run time.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAutoAnswerRules } from '../../src/device/rules.js'
import { testConfig } from '../helpers/config.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'
import { startDevBroker, type DevBroker } from './helpers.js'

const signBody = (externalId: string): unknown => ({
  commandHeader: { timeout: 60, externalId },
  signCommand: { params: { format: 'pkcs7', mechanism: 'CKM_SHA256_RSA_PKCS', tbs: [{ key: 'tbs', content_encoding: 'base64', data: Buffer.from('Pay 500 EUR').toString('base64') }] } }
})

function rules (input: unknown[]): ReturnType<typeof parseAutoAnswerRules>['rules'] {
  const parsed = parseAutoAnswerRules(input)
  if (parsed.problems.length > 0) throw new Error(parsed.problems.join('; '))
  return parsed.rules
}

async function waitFor (broker: DevBroker, query: string): Promise<any> {
  const res = await broker.call('GET', `/hermod/dev/api/callbacks/wait?${query}&until=delivered&timeout=120`)
  if (res.status !== 200) {
    const attempts = (await broker.call('GET', `/hermod/dev/api/callbacks?${query}&limit=20`)).json
    throw new Error(`callbacks/wait ${query}: ${res.status} ${JSON.stringify(res.json)}; attempts: ${JSON.stringify(attempts).slice(0, 2000)}`)
  }
  return res.json
}

t.test('memory store: realistic, reject and ignore rules; a client no rule names is left alone; rules replaced at run time', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hermod-aa-'))
  t.teardown(() => execFileSync('rm', ['-rf', dataDir]))
  const broker = await startDevBroker(t, {
    broker: {
      dataDir,
      dev: {
        autoAnswer: {
          enabled: true,
          profile: 'default',
          rules: rules([
            { client: 'prime', type: 'sign', 'external-id': 'order-*', action: 'approve' },
            { client: 'prime', type: 'sign', 'external-id': 'deny-*', action: 'reject' },
            { client: 'prime', type: 'sign', 'external-id': 'never-*', action: 'ignore' }
          ])
        }
      }
    }
  })

  const approved = await broker.post('sign', signBody('order-1'))
  const callback = await waitFor(broker, `commandId=${approved.commandId}`)
  t.equal(callback.state, 'COMPLETED', 'the realistic approve answered')
  const status = (await broker.call('GET', `/hermod/rest/command/${approved.commandId}`, undefined, { 'x-api-key': Buffer.from(`prime:${(await import('../helpers/config.js')).KEYS.prime}`).toString('base64') })).json
  const signature: string = status.response.signatures[0].signature
  const ca = await broker.call('GET', '/hermod/dev/device/ca.pem')
  t.equal(ca.status, 200, 'the device CA is downloadable')
  const dir = t.testdir({ 'ca.pem': String(ca.json), 'sig.der': '' })
  writeFileSync(join(dir, 'sig.der'), Buffer.from(signature, 'base64'))
  const out = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-CAfile', join(dir, 'ca.pem'), '-purpose', 'any'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.equal(out.toString(), 'Pay 500 EUR', 'openssl verifies the CMS signature against the downloadable CA and recovers the signed text')

  const denied = await broker.post('sign', signBody('deny-1'))
  t.equal((await waitFor(broker, `commandId=${denied.commandId}`)).state, 'REJECTED', 'the reject rule')

  const never = await broker.post('sign', signBody('never-1'))
  const hag = await broker.post('sign', signBody('order-2'), 'hag')
  await broker.call('POST', '/hermod/dev/api/clock/advance', { ms: 61_000 })
  t.equal((await waitFor(broker, `commandId=${never.commandId}`)).state, 'TIMEOUT', 'the ignore rule lets the command time out')
  t.equal((await waitFor(broker, `commandId=${hag.commandId}`)).state, 'TIMEOUT', 'a client no rule names is never answered')

  const state = (await broker.call('GET', '/hermod/dev/api/auto-answer')).json
  t.match(state, { enabled: true, counts: { answered: 2, ignored: 1, failed: 0, tooLate: 0 } })

  t.equal((await broker.call('PUT', '/hermod/dev/api/auto-answer', { rules: [{ client: '*' }] })).status, 400, 'no catch-all')
  t.equal((await broker.call('PUT', '/hermod/dev/api/auto-answer', { rules: [{ client: 'hag', answer: 'canned' }] })).status, 200)
  const later = await broker.post('ping', { commandHeader: { timeout: 60, externalId: 'hag-ping' } }, 'hag')
  t.equal((await waitFor(broker, `commandId=${later.commandId}`)).state, 'COMPLETED', 'the new rule answers the hag client')
})

t.test('Redis store, two instances under load: every command answered exactly once, one callback each', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const autoAnswer = { enabled: true, profile: 'default', rules: rules([{ client: 'prime', answer: 'canned' }]) }
  // The dev sink shares the brokers' event loops: on a loaded machine give its callbacks time and retries (the test counts deliveries).
  const callbacks = { ...testConfig().broker.callbacks, timeoutMs: 5_000, attempts: 12, backoffBaseMs: 100, backoffMaxMs: 1_000 }
  const redisConfig = { url: redis.url, prefix: freshPrefix(), options: {} }
  const patch = { broker: { store: 'redis' as const, redis: redisConfig, callbacks, dev: { deliveryLogSize: 5000, autoAnswer } } }
  const a = await startDevBroker(t, patch)
  const b = await startDevBroker(t, patch)
  const total = 200
  const accepted: any[] = []
  for (let i = 0; i < total; i += 20) {
    accepted.push(...await Promise.all(Array.from({ length: 20 }, async (_, j) => await (j % 2 === 0 ? a : b).post('ping', { commandHeader: { timeout: 120, externalId: `load-${i + j}` } }))))
  }
  t.equal(new Set(accepted.map((c) => c.commandId)).size, total, 'every command accepted')
  for (const command of accepted) await waitFor(a, `commandId=${command.commandId}`)
  const log = (await b.call('GET', '/hermod/dev/api/callbacks?limit=5000')).json.deliveries as any[]
  const delivered = new Map<string, string[]>()
  for (const entry of log) {
    if (entry.outcome === 'delivered') delivered.set(entry.commandId, [...(delivered.get(entry.commandId) ?? []), entry.state])
  }
  t.equal(delivered.size, total, 'a delivered callback for every command')
  const notOnce = [...delivered.values()].filter((states) => states.length !== 1 || states[0] !== 'COMPLETED')
  t.same(notOnce, [], 'exactly one delivered COMPLETED callback each')
  t.same(log.filter((entry: any) => entry.state !== 'COMPLETED'), [], 'no attempt for another state')
  const counts = await Promise.all([a, b].map(async (x) => (await x.call('GET', '/hermod/dev/api/auto-answer')).json.counts))
  t.equal(counts[0].answered + counts[1].answered, total, 'answered once in all: each by the instance that accepted it')
  t.equal(counts[0].tooLate + counts[1].tooLate, 0, 'no answer found its command already decided')
})
