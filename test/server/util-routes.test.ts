// generateclient, health, OpenAPI and the dev sink over HTTP.
import t from 'tap'
import { parse } from 'yaml'
import { authenticateApiKey } from '../../src/auth/api-key.js'
import { ClientRegistry } from '../../src/auth/clients.js'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'

t.test('generateclient: a YAML entry with a fresh 64-hex key, and its X-Api-Key, for loopback callers', async (t) => {
  const { broker } = await buildTestBroker(t)
  const res = await broker.app.inject({ url: '/hermod/rest/util/generateclient/prime2' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  const lines = res.body.split('\n')
  t.match(lines[0], /^# X-Api-Key: [A-Za-z0-9+/]+=*$/)
  const entries = parse(res.body) as Array<Record<string, string>>
  t.equal(entries.length, 1)
  const entry = entries[0]!
  t.equal(entry['client-id'], 'prime2')
  t.match(entry.key, /^[0-9a-f]{64}$/)
  t.equal(entry.group, 'prime2')
  t.match(entry['callback-url'], /^https:\/\//)
  t.match(res.body, /^# {2}callback-basic-auth: /m, 'callback-basic-auth is offered, commented')
  const registry = new ClientRegistry([{ clientId: 'prime2', key: entry.key!, group: 'prime2', callbackMode: 'append' }])
  t.equal(authenticateApiKey(lines[0]!.slice('# X-Api-Key: '.length), registry)?.clientId, 'prime2', 'the printed X-Api-Key authenticates')
  const again = await broker.app.inject({ url: '/hermod/rest/util/generateclient/prime2?group=acme' })
  t.not(parse(again.body)[0].key, entry.key, 'a fresh key every time')
  t.equal(parse(again.body)[0].group, 'acme')
  const remote = await broker.app.inject({ url: '/hermod/rest/util/generateclient/prime2', remoteAddress: '192.0.2.10' })
  t.equal(remote.statusCode, 403)
  t.equal(remote.json().code, 'HERMOD_FORBIDDEN')
  const forwarded = await broker.app.inject({ url: '/hermod/rest/util/generateclient/prime2', remoteAddress: '192.0.2.10', headers: { 'x-forwarded-for': '127.0.0.1' } })
  t.equal(forwarded.statusCode, 403, 'a forwarded header does not make a caller local')
  const bad = await broker.app.inject({ url: '/hermod/rest/util/generateclient/bad%20id%3A' })
  t.equal(bad.statusCode, 400)
})

t.test('generateclient can be opened to remote callers', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({ broker: { generateClientOpen: true } }))
  const remote = await broker.app.inject({ url: '/hermod/rest/util/generateclient/hag2', remoteAddress: '192.0.2.10' })
  t.equal(remote.statusCode, 200)
})

t.test('actuator health, liveness and readiness', async (t) => {
  const { broker } = await buildTestBroker(t)
  const health = await broker.app.inject({ url: '/hermod/actuator/health' })
  t.equal(health.statusCode, 200)
  t.match(health.json(), { status: 'UP', components: { store: { status: 'UP', details: { driver: 'memory' } }, callbacks: { status: 'UP' } } })
  t.same((await broker.app.inject({ url: '/hermod/actuator/health/liveness' })).json(), { status: 'UP' })
  t.equal((await broker.app.inject({ url: '/hermod/actuator/health/readiness' })).json().status, 'UP')
  broker.context.draining = true
  const draining = await broker.app.inject({ url: '/hermod/actuator/health/readiness' })
  t.equal(draining.statusCode, 503, 'readiness goes DOWN while shutting down')
  broker.context.draining = false
})

t.test('readiness is DOWN when the store does not answer', async (t) => {
  const { broker } = await buildTestBroker(t)
  broker.context.store.ping = async () => { throw new Error('down') }
  const res = await broker.app.inject({ url: '/hermod/actuator/health/readiness' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { status: 'DOWN', components: { store: { status: 'DOWN' } } })
})

t.test('the OpenAPI document describes every route and Swagger UI serves it', async (t) => {
  const { broker } = await buildTestBroker(t)
  const res = await broker.app.inject({ url: '/hermod/v3/api-docs' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.openapi, '3.0.3')
  for (const path of ['/hermod/rest/command/sign', '/hermod/rest/command/ping', '/hermod/rest/command/{commandId}', '/hermod/rest/ms/{bid}', '/hermod/rest/ms/{bid}/{mid}', '/hermod/rest/util/generateclient/{clientId}', '/hermod/actuator/health']) {
    t.ok(doc.paths[path], `documents ${path}`)
  }
  t.same(Object.keys(doc.paths['/hermod/rest/command/{commandId}']).sort(), ['delete', 'get'])
  t.notOk(doc.paths['/hermod/rest/command/{type}'], 'one literal path per command type, no template beside {commandId}')
  t.same(doc.paths['/hermod/rest/command/sign'].post.security, [{ apiKey: [] }])
  t.ok(doc.paths['/hermod/actuator/prometheus'].get, 'the metrics route is documented')
  t.equal(doc.components.securitySchemes.apiKey.name, 'X-Api-Key')
  t.ok(doc.components.schemas.HermodError, 'the error schema is a component')
  const ui = await broker.app.inject({ url: '/hermod/swagger-ui/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger/i)
})

t.test('Prometheus metrics count commands and hold no secret', async (t) => {
  const { broker, post } = await buildTestBroker(t)
  await post('sign', {})
  await post('sign', {})
  await post('ping', {})
  const res = await broker.app.inject({ url: '/hermod/actuator/prometheus' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  t.match(res.body, /hermod_commands_accepted_total\{type="sign"\} 2/)
  t.match(res.body, /hermod_commands_accepted_total\{type="ping"\} 1/)
  t.match(res.body, /hermod_http_request_duration_seconds_bucket\{le="0.001",route="\/hermod\/rest\/command\/sign",status="2xx"\}/)
  t.match(res.body, /hermod_process_resident_memory_bytes/)
  t.notMatch(res.body, /079b6a64|fd04de2f/, 'no key in metrics')
})

t.test('R29: past the event-loop delay limit requests are shed with 503 HERMOD_OVERLOADED; liveness stays UP', async (t) => {
  const { broker, key } = await buildTestBroker(t, testConfig({ broker: { overload: { maxEventLoopDelayMs: 20 } } }))
  let shed: { statusCode: number, json: () => any, headers: Record<string, unknown> } | undefined
  for (let i = 0; i < 100 && shed === undefined; i++) {
    const until = Date.now() + 100
    while (Date.now() < until) { /* block the event loop so under-pressure measures a long delay */ }
    await new Promise((resolve) => setTimeout(resolve, 1))
    const res = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
    if (res.statusCode === 503) shed = res
  }
  t.ok(shed, 'a request was shed')
  t.equal(shed?.json().code, 'HERMOD_OVERLOADED')
  t.equal(shed?.headers['retry-after'], '1')
  const live = await broker.app.inject({ url: '/hermod/actuator/health/liveness' })
  t.equal(live.statusCode, 200)
})

t.test('R27: while draining, requests get 503 HERMOD_SHUTTING_DOWN with Retry-After and Connection: close', async (t) => {
  const { broker, key } = await buildTestBroker(t)
  broker.context.draining = true
  const res = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
  broker.context.draining = false
  t.equal(res.statusCode, 503)
  t.same(res.json(), { statusCode: 503, code: 'HERMOD_SHUTTING_DOWN', error: 'Service Unavailable', message: 'The broker is shutting down; try again (another instance)' })
  t.equal(res.headers['retry-after'], '1')
  t.equal(res.headers.connection, 'close')
})
