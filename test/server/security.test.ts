// Tenancy, authentication and hostile input (R20-R24): every case a clear 4xx, the same body where it must not leak.
import t from 'tap'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { authenticateApiKey, apiKeyHeader } from '../../src/auth/api-key.js'
import { ClientRegistry } from '../../src/auth/clients.js'
import { buildTestBroker } from '../helpers/broker.js'
import { KEYS, testClients } from '../helpers/config.js'

t.test('R20: another group\'s command answers exactly like a nonexistent one', async (t) => {
  const { post, broker, key } = await buildTestBroker(t)
  const mine = (await post('sign', {}, 'prime')).json
  for (const method of ['GET', 'DELETE'] as const) {
    const foreign = await broker.app.inject({ method, url: `/hermod/rest/command/${mine.commandId}`, headers: { 'x-api-key': key('other') } })
    const missing = await broker.app.inject({ method, url: '/hermod/rest/command/987654321', headers: { 'x-api-key': key('other') } })
    const garbage = await broker.app.inject({ method, url: '/hermod/rest/command/abc', headers: { 'x-api-key': key('other') } })
    t.equal(foreign.statusCode, 404, method)
    t.equal(foreign.body, missing.body, `${method}: identical body`)
    t.equal(foreign.body, garbage.body)
    t.same(Object.keys(foreign.headers).sort(), Object.keys(missing.headers).sort())
  }
  const still = await broker.app.inject({ url: `/hermod/rest/command/${mine.commandId}`, headers: { 'x-api-key': key('prime') } })
  t.equal(still.json().state, 'IN_PROGRESS', 'the foreign DELETE did not cancel it')
})

t.test('R21: every malformed X-Api-Key is a 401 with the same body; the server stays up', async (t) => {
  const { broker } = await buildTestBroker(t)
  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  const variants: Array<string | undefined> = [
    undefined, '', 'not base64!', b64('no-colon-here'), b64(':only-key'), b64('prime:'), b64(':'),
    b64(`prime:${KEYS.prime}x`), b64(`unknown:${KEYS.prime}`), b64(`PRIME:${KEYS.prime}`), b64(`prime:${KEYS.hag}`),
    'A'.repeat(10_000), b64('prïme:ключ✓'), `${b64(`prime:${KEYS.prime}`)}==`, b64(`prime:${KEYS.prime}`).replace(/=+$/, ''),
    ` ${b64(`prime:${KEYS.prime}`)}x`, b64(`prime:${KEYS.prime}\n`)
  ]
  const bodies = new Set<string>()
  for (const header of variants) {
    const res = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: header === undefined ? {} : { 'x-api-key': header } })
    t.equal(res.statusCode, 401, String(header).slice(0, 40))
    bodies.add(res.body)
  }
  t.equal(bodies.size, 1, 'one body for every failure')
  t.same(JSON.parse([...bodies][0]!), { statusCode: 401, code: 'HERMOD_UNAUTHORIZED', error: 'Unauthorized', message: 'Missing or invalid X-Api-Key' })
  const ok = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) } })
  t.equal(ok.statusCode, 200)
})

t.test('R22: an unknown client costs the same comparison as a wrong key', async (t) => {
  const registry = new ClientRegistry(testClients())
  const calls: number[][] = []
  const original = crypto.timingSafeEqual
  crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    calls.push([a.byteLength, b.byteLength])
    return original(a, b)
  }) as typeof crypto.timingSafeEqual
  syncBuiltinESMExports()
  t.teardown(() => { crypto.timingSafeEqual = original; syncBuiltinESMExports() })
  const run = (header: string): number[][] => {
    calls.length = 0
    authenticateApiKey(header, registry)
    return calls.slice()
  }
  const unknown = run(apiKeyHeader('nobody', KEYS.prime))
  const wrongKey = run(apiKeyHeader('prime', 'a-much-shorter-wrong-key'))
  const right = run(apiKeyHeader('prime', KEYS.prime))
  t.same(unknown, [[32, 32]], 'unknown client: one constant-time comparison of two 32-byte digests')
  t.same(wrongKey, [[32, 32]], 'wrong key of any length: the same')
  t.same(right, [[32, 32]])
  t.equal(authenticateApiKey(apiKeyHeader('prime', KEYS.prime), registry)?.clientId, 'prime')
})

t.test('R23: bodies cannot set id, state, group or client; prototype keys are refused', async (t) => {
  const { post, broker, key } = await buildTestBroker(t)
  await post('ping', {})
  const res = await post('sign', {
    commandHeader: { commandId: '1', state: 'COMPLETED', group: 'globex', clientId: 'other', timeout: 30 },
    commandId: '1',
    state: 'COMPLETED',
    group: 'globex',
    signCommand: {}
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json.state, 'IN_PROGRESS')
  t.not(res.json.commandId, '1', 'the id comes from the broker')
  const foreign = await broker.app.inject({ url: `/hermod/rest/command/${res.json.commandId}`, headers: { 'x-api-key': key('other') } })
  t.equal(foreign.statusCode, 404, 'the group comes from the key, not the body')
  const own = await broker.app.inject({ url: `/hermod/rest/command/${res.json.commandId}`, headers: { 'x-api-key': key('hag') } })
  t.equal(own.json().state, 'IN_PROGRESS')
  for (const payload of ['{"__proto__":{"isAdmin":true},"signCommand":{}}', '{"commandHeader":{"__proto__":{"timeout":1}}}', '{"constructor":{"prototype":{"x":1}}}']) {
    const bad = await post('sign', payload)
    t.equal(bad.statusCode, 400, payload)
    t.equal(bad.json.code, 'HERMOD_INVALID_JSON')
  }
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'no prototype was polluted')
  const answer = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${res.json.destinations[0].bid}/${res.json.destinations[0].mid}`, headers: { 'content-type': 'application/json' }, payload: '{"status":"OK","__proto__":{"x":1}}' })
  t.equal(answer.statusCode, 400)
})

t.test('R24: hostile bodies get a 4xx and the broker keeps serving', async (t) => {
  const { post, broker, key } = await buildTestBroker(t)
  const send = async (payload: string | Buffer, contentType = 'application/json'): Promise<{ statusCode: number, body: string, json: () => any }> =>
    await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key('prime'), 'content-type': contentType }, payload })
  const cases: Array<[string, string | Buffer, string, number, string]> = [
    ['over the body limit', JSON.stringify({ signCommand: { data: 'x'.repeat(1_100_000) } }), 'application/json', 413, 'HERMOD_PAYLOAD_TOO_LARGE'],
    ['deeply nested arrays', `{"signCommand":${'['.repeat(500_000)}${']'.repeat(500_000)}}`, 'application/json', 400, 'HERMOD_INVALID_JSON'],
    ['deeply nested objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, 'application/json', 400, 'HERMOD_INVALID_JSON'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"signCommand":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), 'application/json', 400, 'HERMOD_INVALID_JSON'],
    ['not JSON', '{"signCommand":', 'application/json', 400, 'HERMOD_INVALID_JSON'],
    ['a JSON array', '[1,2,3]', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['a JSON string', '"sign"', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['JSON null', 'null', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['text/plain', '{"signCommand":{}}', 'text/plain', 415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE'],
    ['form data', 'a=b', 'application/x-www-form-urlencoded', 415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE'],
    ['gigantic to array', JSON.stringify({ commandHeader: { to: Array.from({ length: 100_000 }, (_, i) => `u${i}`) } }), 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['negative timeout', '{"commandHeader":{"timeout":-30}}', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['huge lifespan', '{"commandHeader":{"lifespan":1e300}}', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['timeout as object', '{"commandHeader":{"timeout":{"$gt":1}}}', 'application/json', 400, 'HERMOD_INVALID_COMMAND'],
    ['header as array', '{"commandHeader":[30,30]}', 'application/json', 400, 'HERMOD_INVALID_COMMAND']
  ]
  for (const [name, payload, type, status, code] of cases) {
    const res = await send(payload, type)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().code, code, name)
    t.notMatch(res.body, /at \w+ \(|node_modules|\.ts:/, `${name}: no stack trace`)
  }
  const vendorJson = await send('{"signCommand":{}}', 'application/vnd.hermod+json')
  t.equal(vendorJson.statusCode, 200, 'application/*+json is JSON')
  const charset = await send('{"signCommand":{}}', 'application/json; charset=utf-8')
  t.equal(charset.statusCode, 200)
  const alive = await post('ping', {})
  t.equal(alive.statusCode, 200, 'still serving')
  const badAnswer = await broker.app.inject({ method: 'POST', url: `/hermod/rest/ms/${alive.json.destinations[0].bid}/${alive.json.destinations[0].mid}`, headers: { 'content-type': 'application/json' }, payload: `{"status":"OK","response":${'['.repeat(200_000)}${']'.repeat(200_000)}}` })
  t.ok(badAnswer.statusCode >= 400 && badAnswer.statusCode < 500, `deep answer: ${badAnswer.statusCode}`)
})

t.test('unknown routes and methods are JSON 404s with a stable code', async (t) => {
  const { broker } = await buildTestBroker(t)
  const res = await broker.app.inject({ url: '/hermod/rest/nothing-here' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'HERMOD_NOT_FOUND')
})
