// describeConfig: the start-up summary carries what operators need and no secret at all.
import t from 'tap'
import { describeConfig } from '../../src/config/load.js'
import { loadYaml } from './yaml-fixture.js'

t.test('the summary redacts keys, passwords, secrets and URL credentials', async t => {
  const yaml = `
server:
  ssl: { key-store: ks.p12, key-store-password: KSPW-Hunter2 }
public-url: https://broker.example/hermod/rest/ms
allowed-clients:
  - client-id: prime
    key: 079b6a64d75b4e9585bd0c24f36a7deba0ad03498ecf4d69b5766f24fa02e045
    group: acme
    callback-url: https://cbuser:CBPW-Hunter2@prime.example/ws/hermod
    callback-basic-auth: hermod:BASIC-Hunter2
    callback-secret: whsec_${Buffer.alloc(32, 1).toString('base64')}
broker:
  store: redis
  redis: { url: "redis://default:REDISPW-Hunter2@cache:6379/0", options: { password: OPTPW-Hunter2, db: 1 } }
  callbacks: { trust-store: ca.p12, trust-store-password: TSPW-Hunter2 }
  admin: { username: ops, password: ADMINPW-Hunter2 }
`
  const { config } = await loadYaml(t, yaml)
  const summary = describeConfig(config)
  const text = JSON.stringify(summary)
  t.notMatch(text, /Hunter2|079b6a64|whsec_|AQEB/, 'no secret value, in any setting')
  t.match(summary, {
    server: { ssl: { keyStore: /ks\.p12$/, keyStorePassword: 'set' } },
    publicUrl: 'https://broker.example/hermod/rest/ms',
    allowedClients: [{ clientId: 'prime', group: 'acme', callbackUrl: 'https://prime.example/ws/hermod', callbackMode: 'append', callbackBasicAuth: 'set', callbackSecret: 'set' }],
    broker: {
      store: 'redis',
      redis: { url: 'redis://cache:6379/0', options: ['password', 'db'] },
      callbacks: { trustStorePassword: 'set' },
      admin: { username: 'ops', password: 'set' }
    }
  })
})

t.test('unset secrets are not reported as set', async t => {
  const { config } = await loadYaml(t, 'allowed-clients:\n  - { client-id: a, key: k, group: g }\n')
  const summary = describeConfig(config) as {
    allowedClients: Array<Record<string, unknown>>
    broker: Record<string, unknown>
    source: string
  }
  t.same(summary.allowedClients[0], { clientId: 'a', group: 'g', callbackUrl: undefined, callbackMode: 'append', callbackBasicAuth: undefined, callbackSecret: undefined })
  t.equal(summary.broker.admin, undefined)
  t.match(summary.source, /c\d+\.yml$/)
})
