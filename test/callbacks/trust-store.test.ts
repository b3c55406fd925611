// Trust store loading: PEM bundles, PKCS#12 (forge-made and a real keytool trust store), clear errors.
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import t from 'tap'
import { loadTrustStore } from '../../src/callbacks/trust-store.js'
import { makeTestPki, pkcs12TrustStore } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'hermod-ts-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const pki = makeTestPki()
const other = makeTestPki()
const fixture = join(import.meta.dirname, 'fixtures', 'java-truststore.p12')

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256

t.test('a PEM bundle: every certificate, other blocks ignored', async t => {
  const path = join(dir, 'bundle.pem')
  writeFileSync(path, `# our CAs\n${pki.caPem}\n${pki.serverKeyPem}\n${other.caPem}`)
  const pems = loadTrustStore(path)
  t.equal(pems.length, 2)
  t.same(pems.map(fingerprint), [fingerprint(pki.caPem), fingerprint(other.caPem)])
  for (const pem of pems) t.match(pem, /^-----BEGIN CERTIFICATE-----\n/)
})

t.test('a PKCS#12 trust store written by node-forge (certificates only)', async t => {
  const path = join(dir, 'trust.p12')
  writeFileSync(path, pkcs12TrustStore([pki.caCert, other.caCert], 'changeit'))
  t.same(loadTrustStore(path, 'changeit').map(fingerprint), [fingerprint(pki.caPem), fingerprint(other.caPem)])
})

t.test('PKCS#12 is recognised by content too, whatever the file name', async t => {
  const path = join(dir, 'truststore.bin')
  writeFileSync(path, pkcs12TrustStore([pki.caCert], 'pw'))
  t.same(loadTrustStore(path, 'pw').map(fingerprint), [fingerprint(pki.caPem)])
})

t.test('a real Java trust store (keytool, AES-256 + HMAC-SHA256, an RSA and an EC CA)', async t => {
  const pems = loadTrustStore(fixture, 'changeit')
  t.same(pems.map(fingerprint), [
    'D2:90:A0:F4:AF:27:0A:B1:DE:54:C5:A7:1A:F9:79:E1:EC:9D:46:B3:58:4F:B1:65:F6:68:8F:16:61:8A:5B:EB',
    '6F:EA:9E:FA:9D:54:7C:65:6D:39:DA:DB:86:62:EC:24:4F:EB:D2:4A:8C:60:0B:65:CE:87:03:1A:92:C2:E6:32'
  ])
  t.equal(new X509Certificate(pems[1] ?? '').publicKey.asymmetricKeyType, 'ec', 'the EC CA, which forge cannot parse, is kept')
})

t.test('wrong password: a clear error that does not echo the password', async t => {
  try {
    loadTrustStore(fixture, 'hunter2-wrong')
    t.fail('loaded with a wrong password')
  } catch (err) {
    t.match(err, { name: 'TrustStoreError', code: 'HERMOD_TRUST_STORE_INVALID', message: /wrong password/ })
    t.match((err as Error).message, fixture)
    t.notMatch((err as Error).message, /hunter2/)
  }
})

t.test('missing file, empty PEM, garbage: clear errors naming the file', async t => {
  t.throws(() => loadTrustStore(join(dir, 'nope.pem')), { code: 'HERMOD_TRUST_STORE_INVALID', message: /nope\.pem: file not found/ })
  const empty = join(dir, 'empty.pem')
  writeFileSync(empty, 'just some text\n')
  t.throws(() => loadTrustStore(empty), { message: /empty\.pem: no PEM certificate found/ })
  const broken = join(dir, 'broken.pem')
  writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  t.throws(() => loadTrustStore(broken), { message: /broken\.pem: certificate #1 cannot be read/ })
  const garbage = join(dir, 'garbage.p12')
  writeFileSync(garbage, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x03]))
  t.throws(() => loadTrustStore(garbage, 'x'), { message: /garbage\.p12: not a readable PKCS#12 file/ })
})

t.test('a PKCS#12 holding a key but no certificate is refused', async t => {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024 })
  const asn1 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, null as unknown as forge.pki.Certificate, 'pw', { algorithm: '3des' })
  const path = join(dir, 'keyonly.p12')
  writeFileSync(path, Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'))
  t.throws(() => loadTrustStore(path, 'pw'), { message: /no certificate found/ })
})
