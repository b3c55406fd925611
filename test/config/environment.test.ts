// Environment overrides in Spring's form, explicit overrides, and ${NAME:default} placeholders.
import t from 'tap'
import { resolvePlaceholders } from '../../src/config/placeholders.js'
import { loadYaml, problemsOf } from './yaml-fixture.js'

const twoClients = `
server:
  port: 20400
allowed-clients:
  - { client-id: a, key: file-key-a, group: g }
  - { client-id: b, key: file-key-b, group: g }
broker:
  store: memory
`

t.test('Spring-form environment variables override the file, coerced to the setting type', async t => {
  const { config } = await loadYaml(t, twoClients, {
    env: {
      SERVER_PORT: '8443',
      SERVER_SSL_KEYSTOREPASSWORD: 'env-pw',
      SERVER_SSL_ENABLED: 'false',
      SERVER_SERVLET_CONTEXTPATH: '/ctx/',
      PUBLICURL: 'https://env.example/ms/',
      BROKER_STORE: 'redis',
      BROKER_REDIS_URL: 'rediss://cache:6380',
      BROKER_CALLBACKS_ATTEMPTS: '3',
      BROKER_CALLBACKS_PER_CLIENT_CONCURRENCY: '2',
      BROKER_CALLBACKS_INSECURESKIPVERIFY: 'TRUE',
      ALLOWEDCLIENTS_1_KEY: 'env-key-b'
    }
  })
  t.equal(config.server.port, 8443)
  t.equal(config.server.ssl.keyStorePassword, 'env-pw')
  t.equal(config.server.ssl.enabled, false)
  t.equal(config.server.contextPath, '/ctx')
  t.equal(config.publicUrl, 'https://env.example/ms')
  t.equal(config.broker.store, 'redis')
  t.equal(config.broker.redis.url, 'rediss://cache:6380')
  t.equal(config.broker.callbacks.attempts, 3)
  t.equal(config.broker.callbacks.perClientConcurrency, 2)
  t.equal(config.broker.callbacks.insecureSkipVerify, true)
  t.same(config.allowedClients.map(c => [c.clientId, c.key]), [['a', 'file-key-a'], ['b', 'env-key-b']], 'a list item is overridden field by field')
})

t.test('Spring\'s boolean forms 1 and 0 bind to booleans; a setting that also takes a number keeps the number', async t => {
  const { config } = await loadYaml(t, twoClients, { env: { SERVER_SSL_ENABLED: '0', BROKER_DEVSINK: '1', BROKER_CALLBACKS_INSECURESKIPVERIFY: ' 1 ', BROKER_TRUSTPROXY: '1' } })
  t.equal(config.server.ssl.enabled, false, 'SERVER_SSL_ENABLED=0 starts without TLS')
  t.equal(config.broker.devSink, true)
  t.equal(config.broker.callbacks.insecureSkipVerify, true)
  t.equal(config.broker.trustProxy, 1, 'trust-proxy=1 is one hop, not true')
  const fromFile = await loadYaml(t, `${twoClients}  dev-sink: 0\nserver:\n  ssl:\n    enabled: 1\n`.replace('server:\n  port: 20400\n', ''))
  t.equal(fromFile.config.broker.devSink, false, 'YAML 0 is false')
  t.equal(fromFile.config.server.ssl.enabled, true, 'YAML 1 is true')
})

t.test('environment variables can add list items and set hermod.* keys; no file is needed', async t => {
  const { config } = await loadYaml(t, '', {
    env: { ALLOWEDCLIENTS_0_CLIENTID: 'x', ALLOWEDCLIENTS_0_KEY: 'kx', ALLOWEDCLIENTS_0_GROUP: 'gx', HERMOD_FQDN: 'h.example', SERVER_PORT: '1' }
  })
  t.same(config.allowedClients, [{ clientId: 'x', key: 'kx', group: 'gx', callbackMode: 'append' }])
  t.equal(config.fqdn, 'h.example')
  t.equal(config.publicUrl, 'https://h.example:1/hermod/rest/ms')
})

t.test('a free-form setting takes JSON from the environment', async t => {
  const { config } = await loadYaml(t, 'broker:\n  redis:\n    options: { db: 1 }\n', { env: { BROKER_REDIS_OPTIONS: '{"tls": {"servername": "r.example"}, "db": 2}' } })
  t.same(config.broker.redis.options, { tls: { servername: 'r.example' }, db: 2 })
})

t.test('placeholders inside a free-form setting are resolved; YAML types are kept', async t => {
  const { config } = await loadYaml(t, 'broker:\n  redis:\n    options: { password: "${REDIS_PASSWORD}", db: 2, enableAutoPipelining: true, name: "007" }\n', { env: { REDIS_PASSWORD: 'pw' } })
  t.same(config.broker.redis.options, { password: 'pw', db: 2, enableAutoPipelining: true, name: '007' })
})

t.test('unrelated environment variables are left alone; unmatched BROKER_* ones are named in a notice', async t => {
  const { config, notices } = await loadYaml(t, twoClients, { env: { PATH: '/bin', HOME: '/root', BROKER_STOR: 'redis', BROKER_PORT: 'tcp://10.0.0.1:80' } })
  t.equal(config.broker.store, 'memory')
  t.same(notices, ['Ignoring environment variables that name no broker setting: BROKER_PORT, BROKER_STOR'])
})

t.test('a wrong value from the environment names the variable', async t => {
  t.same(await problemsOf(loadYaml(t, twoClients, { env: { SERVER_PORT: 'tcp://10.0.0.1:443' } })), [
    "server.port: must be an integer (got 'tcp://10.0.0.1:443') (environment variable SERVER_PORT)"
  ])
})

t.test('overrides beat the environment, which beats the file; any relaxed spelling of the key works', async t => {
  const { config } = await loadYaml(t, twoClients, {
    env: { SERVER_PORT: '8443', BROKER_STORE: 'redis' },
    overrides: { 'server.port': '9443', 'allowedClients[0].key': 'flag-key-a', 'broker.callbacks.perClientConcurrency': '5', 'broker.redis.options.db': '3' }
  })
  t.equal(config.server.port, 9443)
  t.equal(config.broker.store, 'redis', 'the environment still applies where no override is given')
  t.equal(config.allowedClients[0]?.key, 'flag-key-a')
  t.equal(config.broker.callbacks.perClientConcurrency, 5)
  t.same(config.broker.redis.options, { db: 3 })
})

t.test('an override that names no setting is a problem', async t => {
  t.same(await problemsOf(loadYaml(t, twoClients, { overrides: { 'server.prot': '1', 'spring.datasource.url': 'x' } })), [
    'server.prot: no such setting (override)',
    'spring.datasource.url: no such setting (override)'
  ])
})

t.test('placeholders: environment value, default, empty default, nested default, several in one value', async t => {
  const yaml = `
server:
  port: \${PORT:20400}
  ssl:
    key-store-password: \${KEYSTORE_PASSWORD:changeit}
    key-store-type: \${STORE_TYPE:}
public-url: https://\${HOST:\${FALLBACK_HOST:h.example}}:\${PORT:20400}/ms
allowed-clients:
  - { client-id: a, key: "\${KEY_A}", group: g, callback-url: "\${CB_URL:http://cb.example:8080/x}" }
`
  const withEnv = await loadYaml(t, yaml, { env: { PORT: '8443', KEYSTORE_PASSWORD: '', KEY_A: 'secret-a', FALLBACK_HOST: 'fb.example' } })
  t.equal(withEnv.config.server.port, 8443, 'placeholder values are coerced like any value')
  t.equal(withEnv.config.server.ssl.keyStorePassword, '', 'a variable set to empty wins over the default')
  t.equal(withEnv.config.server.ssl.keyStoreType, undefined, 'an empty default leaves an optional setting unset')
  t.equal(withEnv.config.publicUrl, 'https://fb.example:8443/ms')
  t.equal(withEnv.config.allowedClients[0]?.key, 'secret-a')
  t.equal(withEnv.config.allowedClients[0]?.callbackUrl, 'http://cb.example:8080/x', 'only the first colon separates the default')
})

t.test('a placeholder without value or default is reported with its path, once, with every other problem', async t => {
  const yaml = 'server:\n  port: ${NO_PORT}\nallowed-clients:\n  - { client-id: a, key: "${NO_KEY}", group: g }\nbroker:\n  store: nope\n'
  const problems = await problemsOf(loadYaml(t, yaml, { env: { UNRELATED: 'x' } }))
  t.match(problems, [
    /^server\.port: placeholder \$\{NO_PORT\} has no value: environment variable NO_PORT is not set and no default is given \(.*:2\)$/,
    /^allowed-clients\[0\]\.key: placeholder \$\{NO_KEY\} has no value/,
    /^broker\.store: must be one of memory, redis/
  ])
  t.equal(problems.length, 3, 'no second complaint about the unresolved values')
})

t.test('placeholders in keys the broker ignores are not resolved (no error for spring.datasource.password)', async t => {
  const { notices } = await loadYaml(t, 'spring:\n  datasource:\n    password: ${DB_PASSWORD}\n')
  t.same(notices, ['Ignoring settings the broker does not use: spring.datasource.password', 'No allowed-clients configured: every command will be refused with 401'])
})

t.test('resolvePlaceholders: Spring lookup forms, escapes, unclosed and missing names', async t => {
  const env = { KEY_STORE_PW: 'a', lower: 'b' }
  t.same(resolvePlaceholders('${key.store-pw}', env), { value: 'a' }, 'dotted names find the Spring environment form')
  t.same(resolvePlaceholders('x${lower}y', env), { value: 'xby' })
  t.same(resolvePlaceholders('\\${lower}', env), { value: '${lower}' }, '\\${ is a literal ${')
  t.same(resolvePlaceholders('${unclosed', env), { value: '${unclosed' })
  t.same(resolvePlaceholders('${A:${B:${C:deep}}}', {}), { value: 'deep' })
  t.same(resolvePlaceholders('${A}-${B:x}-${C}', {}), { missing: ['A', 'C'] })
  t.same(resolvePlaceholders('${A:${B}}', {}), { missing: ['B'] }, 'a nested default without value is missing too')
})
