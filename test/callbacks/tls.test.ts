// HTTPS callback targets: trusted through a PEM or PKCS#12 trust store or extraCa, refused without, insecure opt-in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CallbackDeliverer, type CallbackDelivererOptions } from '../../src/callbacks/deliverer.js'
import { captureLogger, makeClient, makeConfig, makeEvent, makeTestPki, pkcs12TrustStore, registryOf, startReceiver } from './helpers.js'

const pki = makeTestPki()
const dir = mkdtempSync(join(tmpdir(), 'hermod-tls-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const receiver = await startReceiver((_req, res) => { res.writeHead(202).end() }, { key: pki.serverKeyPem, cert: pki.serverCertPem })
t.teardown(receiver.close)
const clients = registryOf(makeClient({ callbackUrl: `${receiver.url}/hook` }))

function make (
  t: { teardown: (fn: () => unknown) => void }, options: Partial<CallbackDelivererOptions> = {}
): { deliverer: CallbackDeliverer, log: ReturnType<typeof captureLogger> } {
  const log = captureLogger()
  const deliverer = new CallbackDeliverer({ clients, config: makeConfig(), logger: log.logger, ...options })
  t.teardown(async () => await deliverer.close())
  return { deliverer, log }
}

t.test('without the CA the target is refused (TLS error, retried)', async t => {
  const before = receiver.requests.length
  const outcome = await make(t).deliverer.attempt(makeEvent())
  t.equal(outcome.kind, 'retry')
  t.match((outcome as { reason: string }).reason, /^TLS (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/)
  t.equal(receiver.requests.length, before, 'no request reached the target')
})

t.test('trusted through a PEM trust store', async t => {
  const path = join(dir, 'ca.pem')
  writeFileSync(path, pki.caPem)
  const { deliverer, log } = make(t, { config: makeConfig({ trustStore: path }) })
  t.same(await deliverer.attempt(makeEvent()), { kind: 'delivered', status: 202 })
  t.ok(log.lines.some(l => l.msg === 'callback trust store loaded' && l.certificates === 1))
})

t.test('trusted through a PKCS#12 trust store', async t => {
  const path = join(dir, 'truststore.p12')
  writeFileSync(path, pkcs12TrustStore([pki.caCert], 'changeit'))
  const { deliverer } = make(t, { config: makeConfig({ trustStore: path, trustStorePassword: 'changeit' }) })
  t.same(await deliverer.attempt(makeEvent()), { kind: 'delivered', status: 202 })
})

t.test('a trust store with the wrong password stops construction with a clear error', async t => {
  const path = join(dir, 'truststore-pw.p12')
  writeFileSync(path, pkcs12TrustStore([pki.caCert], 'changeit'))
  t.throws(() => new CallbackDeliverer({ clients, config: makeConfig({ trustStore: path, trustStorePassword: 'nope' }), logger: captureLogger().logger }),
    { code: 'HERMOD_TRUST_STORE_INVALID', message: /wrong password/ })
})

t.test('trusted through extraCa (the broker\'s own certificate for the dev sink)', async t => {
  t.same(await make(t, { extraCa: [pki.caPem] }).deliverer.attempt(makeEvent()), { kind: 'delivered', status: 202 })
})

t.test('a CA that did not sign the server certificate does not help', async t => {
  const stranger = makeTestPki()
  const outcome = await make(t, { extraCa: [stranger.caPem] }).deliverer.attempt(makeEvent())
  t.equal(outcome.kind, 'retry')
  t.match((outcome as { reason: string }).reason, /^TLS /)
})

t.test('insecureSkipVerify delivers and warns at construction', async t => {
  const { deliverer, log } = make(t, { config: makeConfig({ insecureSkipVerify: true }) })
  t.ok(log.lines.some(l => l.level === 40 && /TLS verification of callback targets is OFF/.test(String(l.msg))))
  t.same(await deliverer.attempt(makeEvent()), { kind: 'delivered', status: 202 })
})
