// Spring relaxed binding: every spelling of a key lands on the same setting; `hermod:` and dotted keys; double settings.
import t, { type Test } from 'tap'
import type { LoadedConfig } from '../../src/config/load.js'
import { loadYaml, problemsOf } from './yaml-fixture.js'

const load = async (t: Test, yaml: string): Promise<LoadedConfig> => await loadYaml(t, yaml)

const spellings: Record<string, string> = {
  kebab: `
server:
  port: 8443
  address: 127.0.0.1
  servlet: { context-path: /ctx }
  ssl: { enabled: true, key-store: ks.p12, key-store-password: pw, key-store-type: PKCS12, client-auth: want, trust-certificate: ca.pem }
public-url: https://pub.example/ctx/rest/ms
content-provider-url: https://ignored.example
allowed-clients:
  - { client-id: a, key: k, group: g, callback-url: https://cb.example/x, callback-basic-auth: 'u:p', content-provider-url: https://c.example }
broker: { max-long-poll-seconds: 30, callbacks: { per-client-concurrency: 3 } }
`,
  camel: `
server:
  port: 8443
  address: 127.0.0.1
  servlet: { contextPath: /ctx }
  ssl: { enabled: true, keyStore: ks.p12, keyStorePassword: pw, keyStoreType: PKCS12, clientAuth: want, trustCertificate: ca.pem }
publicUrl: https://pub.example/ctx/rest/ms
contentProviderUrl: https://ignored.example
allowedClients:
  - { clientId: a, key: k, group: g, callbackUrl: https://cb.example/x, callbackBasicAuth: 'u:p', contentProviderUrl: https://c.example }
broker: { maxLongPollSeconds: 30, callbacks: { perClientConcurrency: 3 } }
`,
  snakeAndUpper: `
SERVER:
  PORT: 8443
  Address: 127.0.0.1
  servlet: { context_path: /ctx }
  ssl: { ENABLED: true, key_store: ks.p12, KEY_STORE_PASSWORD: pw, key_store_type: PKCS12, client_auth: want, trust_certificate: ca.pem }
public_url: https://pub.example/ctx/rest/ms
content_provider_url: https://ignored.example
ALLOWED_CLIENTS:
  - { client_id: a, KEY: k, group: g, callback_url: https://cb.example/x, callback_basic_auth: 'u:p', content_provider_url: https://c.example }
broker: { max_long_poll_seconds: 30, callbacks: { PER_CLIENT_CONCURRENCY: 3 } }
`,
  dottedAndHermodSection: `
server.port: 8443
server.address: 127.0.0.1
server.servlet.context-path: /ctx
server.ssl: { enabled: true, key-store: ks.p12, key-store-password: pw, key-store-type: PKCS12, client-auth: want, trust-certificate: ca.pem }
content-provider-url: https://ignored.example
hermod:
  public-url: https://pub.example/ctx/rest/ms
  allowed-clients:
    - { client-id: a, key: k, group: g, callback-url: https://cb.example/x, callback-basic-auth: 'u:p', content-provider-url: https://c.example }
broker.max-long-poll-seconds: 30
broker.callbacks.per-client-concurrency: 3
`
}

t.test('kebab, camel, snake, upper case, dotted keys and the hermod: section all bind the same config', async t => {
  const results = await Promise.all(Object.entries(spellings).map(async ([name, yaml]) => ({ name, loaded: await load(t, yaml) })))
  const reference = results[0]?.loaded.config
  t.match(reference, {
    server: { port: 8443, address: '127.0.0.1', contextPath: '/ctx', ssl: { keyStorePassword: 'pw', keyStoreType: 'PKCS12', clientAuth: 'want' } },
    publicUrl: 'https://pub.example/ctx/rest/ms',
    allowedClients: [{ clientId: 'a', key: 'k', group: 'g', callbackUrl: 'https://cb.example/x', callbackBasicAuth: 'u:p', contentProviderUrl: 'https://c.example' }],
    broker: { maxLongPollSeconds: 30, callbacks: { perClientConcurrency: 3 } }
  })
  for (const { name, loaded } of results) {
    t.same({ ...loaded.config, source: undefined }, { ...reference, source: undefined }, name)
    t.same(loaded.notices.filter(n => n.startsWith('Ignoring')), [
      `Ignoring settings the broker does not use: ${name === 'camel' ? 'contentProviderUrl' : name === 'snakeAndUpper' ? 'content_provider_url' : 'content-provider-url'}`
    ], `${name}: the top-level content-provider-url is not ours and is named as written`)
  }
})

t.test('Spring Boot 1.x server.context-path is accepted too', async t => {
  t.equal((await load(t, 'server:\n  contextPath: /old\n')).config.server.contextPath, '/old')
})

t.test('the same setting given twice in two spellings is a problem naming both', async t => {
  t.same(await problemsOf(load(t, 'allowedClients: []\nallowed-clients: []\nserver: { port: 1, PORT: 2 }\n')), [
    'allowed-clients: set more than once (as allowedClients and as allowed-clients); keep one',
    'server.port: set more than once (as server.port and as server.PORT); keep one'
  ])
  t.same(await problemsOf(load(t, 'public-url: https://a.example\nhermod:\n  publicUrl: https://b.example\n')), [
    'public-url: set more than once (as public-url and as hermod.publicUrl); keep one'
  ])
})

t.test('context-path and uri-base are normalised: leading slash, no trailing slash, / means empty', async t => {
  const cases: Array<[string, string, string, string]> = [
    ['/hermod/', 'rest/', '/hermod', '/rest'],
    ['/', '/', '', ''],
    ["''", "''", '', ''],
    ['hermod', '/api/v1', '/hermod', '/api/v1']
  ]
  for (const [contextPath, uriBase, expectedContext, expectedBase] of cases) {
    const { config } = await load(t, `server:\n  port: 443\n  servlet:\n    context-path: ${contextPath}\nuri-base: ${uriBase}\nfqdn: h.example\n`)
    t.equal(config.server.contextPath, expectedContext, `context-path ${contextPath}`)
    t.equal(config.uriBase, expectedBase, `uri-base ${uriBase}`)
    t.equal(config.publicUrl, `https://h.example:443${expectedContext}${expectedBase}/ms`)
  }
})

t.test('public-url: derived from scheme, fqdn, port and prefixes; a configured one loses its trailing slash', async t => {
  t.equal((await load(t, 'server: { port: 8080, ssl: { enabled: false } }\nfqdn: broker.local\n')).config.publicUrl, 'http://broker.local:8080/hermod/rest/ms')
  t.equal((await load(t, 'public-url: https://x.example/ms/\n')).config.publicUrl, 'https://x.example/ms')
  t.equal((await load(t, 'hermod: { fqdn: h.example, uri-base: /r }\n')).config.publicUrl, 'https://h.example:20400/hermod/r/ms')
})

t.test('values keep their YAML text: a password 0123 stays 0123, numbers-as-strings bind to strings', async t => {
  const { config } = await load(t, 'server:\n  ssl:\n    key-store-password: 0123\nallowed-clients:\n  - { client-id: 42, key: 1e5, group: 007 }\n')
  t.equal(config.server.ssl.keyStorePassword, '0123')
  t.same(config.allowedClients[0], { clientId: '42', key: '1e5', group: '007', callbackMode: 'append' })
})

t.test('YAML anchors and merge keys are expanded', async t => {
  const { config } = await load(t, 'defaults: &client { group: acme, callback-url: https://cb.example }\nallowed-clients:\n  - { <<: *client, client-id: a, key: k1 }\n  - { <<: *client, client-id: b, key: k2, group: other }\n')
  t.same(config.allowedClients.map(c => [c.clientId, c.group, c.callbackUrl]), [['a', 'acme', 'https://cb.example'], ['b', 'other', 'https://cb.example']])
})

t.test('enum and boolean values bind in any case, as Spring does', async t => {
  const { config } = await load(t, 'server: { ssl: { enabled: "FALSE", client-auth: NEED, trust-certificate: ca.pem } }\nbroker: { store: Redis, log: { pretty: "true", level: DEBUG }, dev-sink: yes }\n')
  t.equal(config.server.ssl.enabled, false)
  t.equal(config.server.ssl.clientAuth, 'need')
  t.equal(config.broker.store, 'redis')
  t.equal(config.broker.log.pretty, true)
  t.equal(config.broker.log.level, 'debug')
  t.equal(config.broker.devSink, true)
})
