// Validation: the strict broker section, Hermod's keys, cross-setting rules; every problem at once, never a secret value.
import t from 'tap'
import { loadYaml, problemsOf, withLineNumbers } from './yaml-fixture.js'

t.test('typos and wrong values under broker: all reported at once with path, reason and line', async t => {
  const yaml = `
broker:
  store: redsi
  sweep-interval: 100
  redis:
    url: http://cache:6379
    prefx: x
  commands:
    max-destinations: 0
    body-limit: lots
  callbacks:
    attempts: 0
    perClientConcurrency: 2.5
  admin:
    username: ops
  log:
    pretty: maybe
  dev-sink: perhaps
`
  t.same(withLineNumbers(await problemsOf(loadYaml(t, yaml))), [
    'broker.sweep-interval: unknown key (did you mean sweep-interval-ms?) (line 4)',
    "broker.store: must be one of memory, redis (got 'redsi') (line 3)",
    'broker.redis.prefx: unknown key (did you mean prefix?) (line 7)',
    'broker.commands.max-destinations: must be >= 1 (got 0) (line 9)',
    "broker.commands.body-limit: must be an integer (got 'lots') (line 10)",
    'broker.callbacks.attempts: must be >= 1 (got 0) (line 12)',
    'broker.callbacks.per-client-concurrency: must be an integer (got 2.5) (line 13)',
    'broker.admin.password: is required when broker.admin.username is set',
    "broker.dev-sink: must be a boolean (got 'perhaps') (line 18)",
    "broker.log.pretty: must be one of auto, true, false (got 'maybe') (line 17)",
    'broker.redis.url: must be a redis:// or rediss:// URL (line 6)'
  ])
})

t.test('a key unknown and far from any known one lists the known keys', async t => {
  const problems = await problemsOf(loadYaml(t, 'broker:\n  completely-different: 1\n'))
  t.equal(problems.length, 1)
  t.match(problems[0], /^broker\.completely-different: unknown key \(known keys: store, redis, commands, sweep-interval-ms, .*trust-proxy, data-dir\)/)
})

t.test("Hermod's keys: port range, client fields, duplicates, URLs, callback-mode, secrets, basic auth", async t => {
  const yaml = `
server:
  port: 70000
public-url: not a url
allowed-clients:
  - { client-id: a, key: k1, group: g, callback-url: ftp://cb.example, callback-secret: whsec_c2hvcnQ=, callback-basic-auth: nocolon }
  - { client-id: a, key: "", group: g, callback-mode: sometimes }
  - { key: k3, callback-url: "https://cb.example/x?y=1" }
  - { client-id: "b:c", key: k4, group: g, callback-url: "https://cb.example/x?y=1", callback-mode: exact, callback-secret: whsec_${Buffer.alloc(32, 7).toString('base64')} }
`
  const problems = await problemsOf(loadYaml(t, yaml))
  t.same(withLineNumbers(problems).map(p => p.replace(/ \(line \d+\)$/, '')), [
    'server.port: must be <= 65535 (got 70000)',
    'allowed-clients[1].key: must not be empty',
    "allowed-clients[1].callback-mode: must be one of append, exact (got 'sometimes')",
    'allowed-clients[2].client-id: is required',
    'allowed-clients[2].group: is required',
    'allowed-clients[0].callback-url: must be an http:// or https:// URL',
    'allowed-clients[0].callback-secret: must be whsec_ followed by the base64 of 24 to 64 random bytes',
    'allowed-clients[0].callback-basic-auth: must be user:password',
    "allowed-clients[1].client-id: duplicate client-id 'a' (also allowed-clients[0])",
    'allowed-clients[2].callback-url: must not have a query or fragment (paths are appended to it)',
    "allowed-clients[3].client-id: must not contain ':' (the X-Api-Key splits at the first ':')",
    'public-url: must be an absolute http:// or https:// URL'
  ], 'an exact callback-url may carry a query; a valid whsec_ secret passes')
})

t.test('problems never show secret values', async t => {
  const yaml = `
server:
  ssl: { key-store-password: { nested: hunter2 } }
allowed-clients:
  - { client-id: a, key: sekrit-key, group: g, callback-secret: whsec_sekrit, callback-basic-auth: sekritnocolon }
broker:
  redis: { url: "http://user:sekrit-redis@cache" }
  admin: { password: sekrit-admin }
`
  const problems = await problemsOf(loadYaml(t, yaml))
  t.equal(problems.length, 5)
  t.notMatch(problems.join('\n'), /hunter2|sekrit/)
})

t.test('cross-setting rules: defaults within maxima, backoff, TLS files and client auth', async t => {
  const yaml = `
server:
  context-path: /a
  servlet: { context-path: /b }
  ssl: { key-store: ks.p12, certificate: cert.pem, client-auth: need }
broker:
  commands: { default-timeout: 600, default-lifespan: 400, max-lifespan: 300 }
  callbacks: { backoff-base-ms: 5000, backoff-max-ms: 1000 }
`
  const problems = await problemsOf(loadYaml(t, yaml))
  t.same(withLineNumbers(problems).map(p => p.replace(/ \(line \d+\)$/, '')), [
    'server.context-path: set together with server.servlet.context-path; keep one',
    'server.ssl.key-store: set together with server.ssl.certificate; configure a key store or PEM files, not both',
    'server.ssl.certificate-private-key: is required when the other PEM file is set',
    'server.ssl.trust-certificate: is required when server.ssl.client-auth is need (PEM bundle of the accepted client CAs)',
    'broker.commands.default-lifespan: must not exceed broker.commands.max-lifespan (300)',
    'broker.commands.default-timeout: must not exceed broker.commands.default-lifespan (400)',
    'broker.callbacks.backoff-base-ms: must not exceed broker.callbacks.backoff-max-ms (1000)'
  ])
})

t.test('server timeouts and connection limits: bound, kebab-case, headers within the request timeout', async t => {
  const yaml = `
server:
  headers-timeout-ms: 2000
  request-timeout-ms: 4000
  idle-timeout-ms: 5000
  keep-alive-timeout-ms: 6000
  connections-checking-interval-ms: 500
  tls-handshake-timeout-ms: 3000
  max-connections: 50
  max-connections-per-address: 5
`
  const { config } = await loadYaml(t, yaml)
  t.same(config.server.timeouts, { headers: 2000, request: 4000, idle: 5000, keepAlive: 6000, checkingInterval: 500, tlsHandshake: 3000 })
  t.same(config.server.connections, { max: 50, perAddress: 5 })
  const problems = await problemsOf(loadYaml(t, 'server:\n  headers-timeout-ms: 5000\n  request-timeout-ms: 4000\n  idle-timeout-ms: 0\n'))
  t.same(withLineNumbers(problems).map(p => p.replace(/ \(line \d+\)$/, '')), [
    'server.idle-timeout-ms: must be >= 100 (got 0)',
    'server.headers-timeout-ms: must not exceed server.request-timeout-ms (4000)'
  ])
})

t.test('TLS file rules do not apply while ssl is disabled', async t => {
  const { config } = await loadYaml(t, 'server:\n  ssl: { enabled: false, certificate: cert.pem, client-auth: need }\n')
  t.equal(config.server.ssl.enabled, false)
})

t.test('broker.purge-grace-ms below five minutes is refused (a pending Redis record could expire before a late sweep writes its TIMEOUT)', async t => {
  for (const value of [0, 1000, 299999]) {
    const problems = await problemsOf(loadYaml(t, `broker:\n  purge-grace-ms: ${value}\n`))
    t.equal(problems.length, 1, `${value}: one problem`)
    t.match(problems[0], `broker.purge-grace-ms: must be >= 300000 (got ${value})`)
  }
  t.equal((await loadYaml(t, 'broker:\n  purge-grace-ms: 300000\n')).config.broker.purgeGraceMs, 300000, 'five minutes is accepted')
  t.equal((await loadYaml(t, '{}\n')).config.broker.purgeGraceMs, 3600000, 'the default is one hour')
})

t.test('every valid broker setting is accepted, in kebab-case, and lands in camelCase', async t => {
  const yaml = `
broker:
  store: redis
  redis: { url: "rediss://:pw@cache:6380/2", prefix: hx, options: { enableAutoPipelining: true, tls: { servername: cache } }, cluster: { nodes: "a:1,b:2", options: { maxRedirections: 4 }, group-buckets: 8 }, wait-replicas: 1, wait-timeout-ms: 300, reindex-interval-ms: 60000 }
  commands: { default-timeout: 30, default-lifespan: 60, max-timeout: 600, max-lifespan: 900, max-destinations: 4, body-limit: 65536 }
  sweep-interval-ms: 100
  purge-grace-ms: 300000
  max-long-poll-seconds: 30
  callbacks: { timeout-ms: 5000, attempts: 5, backoff-base-ms: 100, backoff-max-ms: 1000, retry-after-max-ms: 2000, concurrency: 10, per-client-concurrency: 2, trust-store: /etc/ca.pem, trust-store-password: pw, insecure-skip-verify: true, dead-letter-max: 5, lock-duration-ms: 20000, stalled-interval-ms: 2000, queue-shards: 8 }
  generate-client-open: true
  admin: { username: ops, password: pw }
  dev-sink: true
  dev: { console: false }
  overload: { max-event-loop-delay-ms: 500, max-in-flight: 64, max-in-flight-per-connection: 8, max-queue-ms: 250, shed-pause-ms: 500, max-heap-used-bytes: 1000000, max-rss-bytes: 2000000, start-grace-ms: 100 }
  rate-limit: { enabled: true, window-ms: 10000, per-client-max: 50, per-box-max: 5, per-address-max: 20 }
  log: { level: warn, pretty: false }
  trust-proxy: 10.0.0.0/8
  data-dir: /var/lib/hermod
`
  const { config } = await loadYaml(t, yaml)
  t.same(config.broker, {
    store: 'redis',
    redis: {
      url: 'rediss://:pw@cache:6380/2',
      prefix: 'hx',
      options: { enableAutoPipelining: true, tls: { servername: 'cache' } },
      cluster: { nodes: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], options: { maxRedirections: 4 }, groupBuckets: 8 },
      waitReplicas: 1,
      waitTimeoutMs: 300,
      reindexIntervalMs: 60_000
    },
    commands: { defaultTimeout: 30, defaultLifespan: 60, maxTimeout: 600, maxLifespan: 900, maxDestinations: 4, bodyLimit: 65536 },
    sweepIntervalMs: 100,
    purgeGraceMs: 300000,
    maxLongPollSeconds: 30,
    callbacks: { timeoutMs: 5000, attempts: 5, backoffBaseMs: 100, backoffMaxMs: 1000, retryAfterMaxMs: 2000, concurrency: 10, perClientConcurrency: 2, trustStore: '/etc/ca.pem', trustStorePassword: 'pw', insecureSkipVerify: true, deadLetterMax: 5, lockDurationMs: 20000, stalledIntervalMs: 2000, queueShards: 8 },
    generateClientOpen: true,
    admin: { username: 'ops', password: 'pw' },
    devSink: true,
    dev: { enabled: false, deliveryLogSize: 1000, console: false, autoAnswer: { enabled: false, profile: 'default', rules: [] } },
    contentProvider: { timeoutMs: 5000 },
    overload: {
      maxEventLoopDelayMs: 500,
      maxInFlight: 64,
      maxInFlightPerConnection: 8,
      maxQueueMs: 250,
      shedPauseMs: 500,
      maxHeapUsedBytes: 1000000,
      maxRssBytes: 2000000,
      startGraceMs: 100
    },
    rateLimit: { enabled: true, windowMs: 10000, perClientMax: 50, perBoxMax: 5, perAddressMax: 20 },
    log: { level: 'warn', pretty: false },
    trustProxy: '10.0.0.0/8',
    dataDir: '/var/lib/hermod'
  })
  t.equal((await loadYaml(t, 'broker: { trust-proxy: "true" }\n')).config.broker.trustProxy, true)
  t.equal((await loadYaml(t, 'broker: { trust-proxy: 2 }\n')).config.broker.trustProxy, 2)
})
