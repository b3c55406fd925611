// Certificate serial numbers are positive, minimal DER integers: OpenSSL (and Node's X509Certificate) refuse a padded one.
import t from 'tap'
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto'
import { issueCertificate, serialNumberBytes } from '../../src/device/pki.js'

t.test('serialNumberBytes never starts with 0x00 and never has the top bit set', async (t) => {
  for (const first of [0x00, 0x80, 0x7f, 0xff, 0x01]) {
    const serial = serialNumberBytes(Buffer.from([first, 0x01, ...randomBytes(14)]))
    t.ok(serial[0]! >= 0x01 && serial[0]! <= 0x7f, `first byte 0x${first.toString(16)} -> 0x${serial[0]!.toString(16)}`)
  }
})

t.test('certificates with many random serials all parse in OpenSSL', async (t) => {
  const key = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', key.publicKey))
  const name = [{ type: '2.5.4.3', value: 'serial test' }]
  let refused = 0
  // 1 in 256 serials hit the padding case before the fix: 600 certificates make a miss unlikely (~0.1 %).
  for (let i = 0; i < 600; i++) {
    const request = { subject: name, publicKeySpki: spki, issuer: name, issuerKey: key.privateKey, ca: false, validDays: 1 }
    const pem = await issueCertificate(request)
    try { new X509Certificate(pem) } catch { refused++ } // eslint-disable-line no-new
  }
  t.equal(refused, 0, 'certificates OpenSSL refused')
})
