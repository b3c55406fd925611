// Server TLS (R28): PKCS#12 (native and legacy), PEM files, self-signed; clear errors; TLS 1.0/1.1 refused, 1.2 accepted.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'
import t from 'tap'
import type { SslConfig } from '../../src/config/types.js'
import { loadTlsMaterial, TlsConfigError } from '../../src/server/tls.js'
import { connectTls, makeCertificate, pkcs12WithForge, requestOverTls, serve } from './tls-fixtures.js'

const ssl = (patch: Partial<SslConfig>): SslConfig => ({ enabled: true, clientAuth: 'none', ...patch })

t.test('ssl disabled: no TLS material', async t => {
  t.equal(await loadTlsMaterial({ enabled: false, clientAuth: 'none', keyStore: '/does/not/matter.p12' }), null)
})

t.test('PKCS#12 (modern algorithms): loaded natively as pfx; a wrong password is a clear error without the password', async t => {
  const dir = t.testdir()
  const pems = await makeCertificate('p12.example')
  const file = join(dir, 'bundle.p12')
  writeFileSync(file, pkcs12WithForge(pems, 'changeit'))
  const material = await loadTlsMaterial(ssl({ keyStore: file, keyStorePassword: 'changeit', keyStoreType: 'PKCS12' }))
  t.equal(material?.source, 'pkcs12')
  t.equal(material?.options.passphrase, 'changeit')
  t.ok(Buffer.isBuffer(material?.options.pfx), 'handed to Node as pfx')
  t.equal(material?.options.minVersion, 'TLSv1.2')
  t.equal(material?.fingerprint256, new X509Certificate(pems.cert).fingerprint256)
  t.equal(material?.certificatePem, new X509Certificate(pems.cert).toString())
  for (const type of ['pkcs12', 'P12', undefined]) {
    t.equal((await loadTlsMaterial(ssl({ keyStore: file, keyStorePassword: 'changeit', keyStoreType: type })))?.source, 'pkcs12', `key-store-type ${type}`)
  }
  const wrong = loadTlsMaterial(ssl({ keyStore: file, keyStorePassword: 'not-it' }))
  await t.rejects(wrong, new TlsConfigError(`wrong password for key store ${file} (check server.ssl.key-store-password)`))
})

t.test('PKCS#12 with legacy RC2-40 (old keytool): OpenSSL 3 refuses it natively, node-forge reads it', async t => {
  const dir = t.testdir()
  const pems = await makeCertificate('legacy.example')
  writeFileSync(join(dir, 'key.pem'), pems.private)
  writeFileSync(join(dir, 'cert.pem'), pems.cert)
  const file = join(dir, 'legacy.p12')
  execFileSync('openssl', ['pkcs12', '-export', '-legacy', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'cert.pem'), '-out', file, '-passout', 'pass:changeit'])
  t.throws(() => createSecureContext({ pfx: readFileSync(file), passphrase: 'changeit' }), { code: 'ERR_CRYPTO_UNSUPPORTED_OPERATION' },
    'the fixture is a bundle Node refuses natively, so the fallback is what loads it')
  const material = await loadTlsMaterial(ssl({ keyStore: file, keyStorePassword: 'changeit', keyStoreType: 'PKCS12' }))
  t.equal(material?.source, 'pkcs12')
  t.equal(material?.options.pfx, undefined, 'not handed to Node as pfx')
  t.match(material?.options.key, /^-----BEGIN PRIVATE KEY-----/)
  t.equal(material?.fingerprint256, new X509Certificate(pems.cert).fingerprint256)
  const server = await serve(t, material?.options ?? {})
  const connection = await connectTls(server.port, { ca: [pems.cert], servername: 'legacy.example' })
  t.equal(connection.authorized, true, 'a client trusting the certificate connects')
  await t.rejects(loadTlsMaterial(ssl({ keyStore: file, keyStorePassword: 'wrong' })), { name: 'TlsConfigError', message: `wrong password for key store ${file} (check server.ssl.key-store-password)` })
})

t.test('key store errors: missing file, not PKCS#12, JKS, unsupported type', async t => {
  const dir = t.testdir({ 'garbage.p12': 'this is not DER', 'store.jks': Buffer.from('feedfeed00000002', 'hex'), 'bundle.bks': Buffer.from([0x30, 0x03, 1, 2, 3]) })
  await t.rejects(loadTlsMaterial(ssl({ keyStore: join(dir, 'none.p12'), keyStorePassword: 'x' })),
    { name: 'TlsConfigError', message: `server.ssl.key-store: file not found: ${join(dir, 'none.p12')}` })
  await t.rejects(loadTlsMaterial(ssl({ keyStore: join(dir, 'garbage.p12'), keyStorePassword: 'x' })),
    { message: new RegExp(`^server\\.ssl\\.key-store: ${join(dir, 'garbage.p12')} is not a readable PKCS#12 file`) })
  const jks = loadTlsMaterial(ssl({ keyStore: join(dir, 'store.jks'), keyStorePassword: 'x', keyStoreType: 'JKS' }))
  await t.rejects(jks, { message: /is a Java KeyStore \(JKS\), which Node cannot read\. Convert it to PKCS#12 once with keytool -importkeystore -srckeystore .*store\.jks -destkeystore .*store\.p12 -deststoretype PKCS12/ })
  await t.rejects(loadTlsMaterial(ssl({ keyStore: join(dir, 'bundle.bks'), keyStorePassword: 'x', keyStoreType: 'BKS' })),
    { message: "server.ssl.key-store-type: unsupported type 'BKS' (use PKCS12 or PEM; convert JKS with keytool -importkeystore)" })
})

t.test('PEM files: chain in any order, leaf first; PEM as key-store-type; mismatched and encrypted keys refused', async t => {
  const dir = t.testdir()
  const leaf = await makeCertificate('pem.example')
  const other = await makeCertificate('other.example')
  const write = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name) }
  const chain = write('chain.pem', other.cert + leaf.cert)
  const key = write('key.pem', leaf.private)
  const material = await loadTlsMaterial(ssl({ certificate: chain, certificatePrivateKey: key }))
  t.equal(material?.source, 'pem')
  t.equal(material?.fingerprint256, new X509Certificate(leaf.cert).fingerprint256, 'the leaf is the certificate of the key')
  t.equal((material?.options.cert as string).indexOf(new X509Certificate(leaf.cert).toString()), 0, 'served leaf first')
  const server = await serve(t, material?.options ?? {})
  t.equal((await connectTls(server.port, { ca: [leaf.cert], servername: 'pem.example' })).authorized, true)

  const combined = write('combined.pem', leaf.private + leaf.cert)
  t.equal((await loadTlsMaterial(ssl({ keyStore: combined, keyStoreType: 'PEM' })))?.fingerprint256, material?.fingerprint256, 'one PEM file with key and chain')

  await t.rejects(loadTlsMaterial(ssl({ certificate: write('other.pem', other.cert), certificatePrivateKey: key })),
    { message: `the private key does not match the certificate (${join(dir, 'other.pem')} / ${key})` })
  const encrypted = execFileSync('openssl', ['pkey', '-aes256', '-passout', 'pass:pw'], { input: leaf.private }).toString()
  await t.rejects(loadTlsMaterial(ssl({ certificate: chain, certificatePrivateKey: write('enc.pem', encrypted) })), { message: /is encrypted; decrypt it/ })
  await t.rejects(loadTlsMaterial(ssl({ certificate: write('empty.pem', 'nothing'), certificatePrivateKey: key })), { message: /holds no PEM certificate/ })
  await t.rejects(loadTlsMaterial(ssl({ certificate: chain, certificatePrivateKey: join(dir, 'gone.pem') })),
    { message: `server.ssl.certificate-private-key: file not found: ${join(dir, 'gone.pem')}` })
  await t.rejects(loadTlsMaterial(ssl({ certificate: chain })), { message: /must be set together/ })
})

t.test('no key material: a self-signed certificate for localhost, the loopback addresses and given host names', async t => {
  const material = await loadTlsMaterial(ssl({}), { hostnames: ['broker.example', '10.1.2.3'] })
  t.equal(material?.source, 'self-signed')
  const certificate = new X509Certificate(material?.certificatePem ?? '')
  t.equal(material?.fingerprint256, certificate.fingerprint256)
  t.match(material?.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  t.equal(certificate.subject, 'CN=localhost')
  for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:broker.example', 'IP Address:10.1.2.3']) {
    t.ok(certificate.subjectAltName?.split(', ').includes(name), name)
  }
  const lifetimeDays = (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000
  t.ok(lifetimeDays > 364 && lifetimeDays < 367, `valid one year (${lifetimeDays} days)`)
  const again = await loadTlsMaterial(ssl({}))
  t.not(again?.fingerprint256, material?.fingerprint256, 'generated fresh each start')
  const server = await serve(t, material?.options ?? {})
  t.equal((await connectTls(server.port, { ca: [material?.certificatePem ?? ''], servername: 'localhost' })).authorized, true, 'trusting the PEM is enough')
  t.equal((await connectTls(server.port, { ca: [material?.certificatePem ?? ''], servername: 'broker.example' })).authorized, true)
})

t.test('R28: TLS 1.0 and 1.1 are refused, 1.2 and 1.3 accepted, by a real https server built from the options', async t => {
  const material = await loadTlsMaterial(ssl({}))
  const options = material?.options ?? {}
  const oldClient = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const
  const control = await serve(t, { ...options, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' })
  t.equal((await connectTls(control.port, oldClient)).protocol, 'TLSv1.1', 'control: this client really speaks TLS 1.1 to a server that allows it')
  const server = await serve(t, options)
  const refused = await connectTls(server.port, oldClient).then(() => 'connected', (error: NodeJS.ErrnoException) => error.code)
  t.equal(refused, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'TLS 1.1 refused by our server')
  const tls10 = await connectTls(server.port, { ...oldClient, maxVersion: 'TLSv1' }).then(() => 'connected', (error: NodeJS.ErrnoException) => error.code)
  t.equal(tls10, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'TLS 1.0 refused')
  t.equal((await connectTls(server.port, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2')
  t.equal((await connectTls(server.port, {})).protocol, 'TLSv1.3')
})

t.test('client-auth need and want: the CA bundle is required, clients are checked against it', async t => {
  const dir = t.testdir()
  const ca = await makeCertificate('client-ca.example', true)
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, ca.cert)
  const need = await loadTlsMaterial(ssl({ clientAuth: 'need', trustCertificate: caFile }))
  t.match(need?.options, { requestCert: true, rejectUnauthorized: true, ca: readFileSync(caFile, 'utf8') })
  const server = await serve(t, need?.options ?? {})
  t.equal(await requestOverTls(server.port, { key: ca.clientprivate, cert: ca.clientcert }), 'ok', 'a client certificate issued by the CA is accepted')
  t.match(await requestOverTls(server.port, {}), /^error .*CERTIFICATE_REQUIRED|^error ECONNRESET/, 'no client certificate: refused')
  const stranger = await makeCertificate('stranger.example')
  t.match(await requestOverTls(server.port, { key: stranger.private, cert: stranger.cert }), /^(error .+|closed )$/, 'a certificate from another CA: refused, no HTTP answer')
  const want = await loadTlsMaterial(ssl({ clientAuth: 'want', trustCertificate: caFile }))
  t.match(want?.options, { requestCert: true, rejectUnauthorized: false })
  await t.rejects(loadTlsMaterial(ssl({ clientAuth: 'need' })), { message: /server\.ssl\.trust-certificate .* is not set/ })
  await t.rejects(loadTlsMaterial(ssl({ clientAuth: 'need', trustCertificate: join(dir, 'nope.pem') })), { message: /^server\.ssl\.trust-certificate: file not found/ })
})
