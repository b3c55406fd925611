// loadConfig end to end: Hermod's example files load unchanged, file selection, defaults, freezing, the bundled dev config.
import { readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { problemsOf } from './yaml-fixture.js'

const examples = new URL('../../examples/hermod/', import.meta.url).pathname
const repo = new URL('../../', import.meta.url).pathname

t.test('the camelCase Hermod example loads unchanged; spring.* is ignored with one notice', async t => {
  const { config, notices } = await loadConfig({ file: join(examples, 'cod-hermod-camelcase.yml'), env: {}, cwd: t.testdir() })
  t.equal(config.server.port, 20400)
  t.equal(config.server.ssl.enabled, false)
  t.equal(config.publicUrl, 'https://hermod.example.com/hermod/rest/ms')
  t.same(config.allowedClients.map(c => [c.clientId, c.group, c.callbackMode]), [['prime-server1', 'acme', 'append'], ['hag1', 'acme', 'append']])
  t.equal(config.allowedClients[0]?.callbackBasicAuth, 'admin:admin')
  t.equal(config.allowedClients[1]?.callbackUrl, 'https://access.example.com/https/api/rest/v3.0/personalmessaging')
  t.same(notices, ['Ignoring settings the broker does not use: spring.datasource.url, spring.datasource.username, spring.datasource.password'])
  t.notMatch(notices.join('\n'), /jdbc|secret|hermod:/, 'notices name keys, never values')
})

t.test('the kebab-case Hermod example loads unchanged; its key store path resolves next to config/', async t => {
  const dir = t.testdir({ config: {}, certificates: { 'hermod-host-bundle.p12': 'placeholder' } })
  const file = join(dir, 'config', 'cod-hermod.yml')
  writeFileSync(file, readFileSync(join(examples, 'cod-hermod-kebabcase.yml')))
  const { config, notices } = await loadConfig({ file, env: {}, cwd: '/' })
  t.same(config.server.ssl, {
    enabled: true,
    keyStore: join(dir, 'certificates', 'hermod-host-bundle.p12'),
    keyStorePassword: 'changeit',
    keyStoreType: 'PKCS12',
    clientAuth: 'none'
  })
  t.equal(config.server.contextPath, '/hermod')
  t.equal(config.publicUrl, 'https://hermod.example.com:20400/hermod/rest/ms')
  t.same(config.allowedClients, [{
    clientId: 'idm',
    key: '079b6a64d75b4e9585bd0c24f36a7deba0ad03498ecf4d69b5766f24fa02e045',
    group: 'acme',
    callbackUrl: 'https://idm.example.com/prime_explorer/ws/hermod',
    callbackBasicAuth: 'hermod:s3cret',
    callbackMode: 'append',
    contentProviderUrl: 'https://content.example.com/api'
  }])
  t.same(notices, [])
  t.equal(config.source, file)
})

t.test('the kebab example also loads where its key store does not exist (TLS loading reports that later)', async t => {
  const { config, notices } = await loadConfig({ file: join(examples, 'cod-hermod-kebabcase.yml'), env: { KEYSTORE_PASSWORD: 'from-env' }, cwd: '/nowhere' })
  t.equal(config.server.ssl.keyStore, '/nowhere/certificates/hermod-host-bundle.p12', 'the working-directory path is kept')
  t.equal(config.server.ssl.keyStorePassword, 'from-env')
  t.match(notices[0], /^server\.ssl\.key-store: certificates\/hermod-host-bundle\.p12 not found \(tried \/nowhere\/certificates\/hermod-host-bundle\.p12, .*examples\/certificates/)
})

t.test('without a file: built-in defaults, and the documented derived values', async t => {
  const cwd = t.testdir()
  const { config, notices } = await loadConfig({ env: {}, cwd })
  t.equal(config.source, undefined)
  t.match(notices[0], /No configuration file at .*config\/application\.yml: using built-in defaults/)
  t.same(config.server, {
    port: 20400,
    address: '::',
    contextPath: '/hermod',
    ssl: { enabled: true, clientAuth: 'none' },
    timeouts: { headers: 10_000, request: 30_000, idle: 30_000, keepAlive: 72_000, checkingInterval: 1000, tlsHandshake: 10_000 },
    connections: { max: 10_000, perAddress: 1000 },
    frontProcess: true
  })
  t.equal(config.uriBase, '/rest')
  t.equal(config.fqdn, hostname())
  t.equal(config.publicUrl, `https://${hostname()}:20400/hermod/rest/ms`)
  t.same(config.allowedClients, [])
  t.same(config.broker, {
    store: 'memory',
    redis: { url: 'redis://127.0.0.1:6379', prefix: 'hermod', options: {}, waitReplicas: 0, waitTimeoutMs: 500, reindexIntervalMs: 600_000 },
    commands: { defaultTimeout: 300, defaultLifespan: 300, maxTimeout: 86400, maxLifespan: 86400, maxDestinations: 16, bodyLimit: 1048576 },
    sweepIntervalMs: 200,
    purgeGraceMs: 3600000,
    maxLongPollSeconds: 60,
    callbacks: {
      timeoutMs: 15000,
      attempts: 12,
      backoffBaseMs: 1000,
      backoffMaxMs: 300000,
      retryAfterMaxMs: 600000,
      concurrency: 64,
      perClientConcurrency: 8,
      insecureSkipVerify: false,
      deadLetterMax: 10000,
      lockDurationMs: 10000,
      stalledIntervalMs: 5000,
      queueShards: 1
    },
    generateClientOpen: false,
    devSink: false,
    dev: { enabled: false, deliveryLogSize: 1000, console: true, autoAnswer: { enabled: false, profile: 'default', rules: [] } },
    contentProvider: { timeoutMs: 5000 },
    overload: {
      maxEventLoopDelayMs: 1000,
      maxInFlight: 512,
      maxInFlightPerConnection: 32,
      maxQueueMs: 1000,
      shedPauseMs: 1000,
      maxHeapUsedBytes: undefined,
      maxRssBytes: undefined,
      startGraceMs: 5000
    },
    rateLimit: { enabled: false, windowMs: 60000, perClientMax: 6000, perBoxMax: 600, perAddressMax: 6000 },
    log: { level: 'info', pretty: 'auto' },
    trustProxy: false,
    dataDir: join(cwd, '.hermod')
  })
})

t.test('file selection: opts.file, then HERMOD_CONFIG, then <cwd>/config/application.yml', async t => {
  const cwd = t.testdir({
    config: { 'application.yml': 'server:\n  port: 1001\n' },
    'env.yml': 'server:\n  port: 1002\n',
    'named.yml': 'server:\n  port: 1003\n'
  })
  t.equal((await loadConfig({ env: {}, cwd })).config.server.port, 1001)
  t.equal((await loadConfig({ env: { HERMOD_CONFIG: 'env.yml' }, cwd })).config.server.port, 1002)
  t.equal((await loadConfig({ file: 'named.yml', env: { HERMOD_CONFIG: 'env.yml' }, cwd })).config.server.port, 1003)
})

t.test('an explicitly named file that does not exist is an error, not defaults', async t => {
  const cwd = t.testdir()
  t.same(await problemsOf(loadConfig({ file: 'missing.yml', env: {}, cwd })), [`${join(cwd, 'missing.yml')}: file not found`])
  t.same(await problemsOf(loadConfig({ env: { HERMOD_CONFIG: 'gone.yml' }, cwd })), [`${join(cwd, 'gone.yml')}: file not found`])
})

t.test('YAML syntax errors name the line but not its text', async t => {
  const cwd = t.testdir({ 'bad.yml': 'server:\n  port: 1\n  ssl: [unclosed\nkey-store-password: hunter2\n' })
  const error = await loadConfig({ file: 'bad.yml', env: {}, cwd }).catch((e: unknown) => e)
  t.type(error, ConfigError)
  t.match((error as ConfigError).problems[0], /^bad\.yml:\d+: /)
  t.notMatch((error as ConfigError).message, /hunter2/)
})

t.test('an empty file means defaults; a file that is not a mapping is a problem', async t => {
  const cwd = t.testdir({ 'empty.yml': '# nothing here\n', 'list.yml': '- a\n- b\n' })
  t.equal((await loadConfig({ file: 'empty.yml', env: {}, cwd })).config.server.port, 20400)
  t.same(await problemsOf(loadConfig({ file: 'list.yml', env: {}, cwd })), ['list.yml: must be a YAML mapping of keys to values'])
})

t.test('the returned config is deeply frozen', async t => {
  const cwd = t.testdir({ 'c.yml': 'allowed-clients:\n  - {client-id: a, key: k, group: g}\nbroker:\n  redis:\n    options: {tls: {servername: x}}\n' })
  const { config } = await loadConfig({ file: 'c.yml', env: {}, cwd })
  t.ok(Object.isFrozen(config))
  t.ok(Object.isFrozen(config.server.ssl))
  t.ok(Object.isFrozen(config.allowedClients))
  t.ok(Object.isFrozen(config.allowedClients[0]))
  t.ok(Object.isFrozen(config.broker.redis.options.tls))
  t.throws(() => { (config.server as { port: number }).port = 1 })
})

t.test('the bundled config/application.yml loads: self-signed TLS, memory store, dev sink, the demo client', async t => {
  const { config, notices } = await loadConfig({ env: {}, cwd: repo })
  t.same(notices, [])
  t.equal(config.server.port, 20400)
  t.equal(config.server.address, '127.0.0.1', 'loopback only: its demo key is published')
  t.equal(config.server.contextPath, '/hermod')
  t.same(config.server.ssl, { enabled: true, clientAuth: 'none' }, 'no key material: a self-signed certificate is generated')
  t.equal(config.broker.store, 'memory')
  t.equal(config.broker.devSink, true)
  t.equal(config.broker.dev.enabled, true, 'the dev surface is on in the development config')
  const [demo] = config.allowedClients
  t.equal(demo?.contentProviderUrl, 'https://127.0.0.1:20400/hermod/dev/content', 'the demo client uses the dev content provider')
  t.match(demo, { clientId: 'demo', group: 'demo', callbackUrl: 'https://127.0.0.1:20400/hermod/dev', callbackMode: 'append' })
  t.match(demo?.key, /^[0-9a-f]{64}$/)
  const header = /# X-Api-Key: (\S+)/.exec(readFileSync(join(repo, 'config', 'application.yml'), 'utf8'))?.[1]
  t.equal(header, Buffer.from(`demo:${demo?.key ?? ''}`).toString('base64'), 'the commented X-Api-Key matches the demo key')
})

t.test('keys the broker does not read, in any section but broker:, are named in one notice and never crash', async t => {
  const cwd = t.testdir({
    'c.yml': [
      'management: { endpoints: { web: { exposure: { include: "*" } } } }',
      'logging:',
      '  level: { root: INFO }',
      'server:',
      '  ssl: { key-alias: hermod, enabled: false }',
      '  compression: { enabled: true }',
      'hermod: { licence: x }',
      'allowed-clients:',
      '  - { client-id: a, key: k, group: g, description: the first one }',
      ''
    ].join('\n')
  })
  const { config, notices } = await loadConfig({ file: 'c.yml', env: {}, cwd })
  t.equal(config.allowedClients[0]?.clientId, 'a')
  t.same(notices, [
    'Ignoring settings the broker does not use: management.endpoints.web.exposure.include, logging.level.root, ' +
    'server.ssl.key-alias, server.compression.enabled, hermod.licence, allowed-clients[0].description'
  ])
})
