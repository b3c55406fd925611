// The virtual device's answers, verified by tools nobody here wrote: openssl (req, cms, dgst, verify) and jose.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Ajv } from 'ajv'
import { compactVerify, importX509 } from 'jose'
import { deviceAnswerSchema, provisionResultSchema } from '../../src/device/answer-schema.js'
import { VirtualDevice } from '../../src/device/device.js'
import { createProfile } from '../../src/device/profile.js'
import { createTestCa } from '../../src/device/test-ca.js'

const run = promisify(execFile)
const example = async (name: string): Promise<Record<string, unknown>> => {
  const body = JSON.parse(await readFile(new URL(`../../examples/hermod/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>
  delete body.commandHeader
  return body
}

const dir = await mkdtemp(join(tmpdir(), 'hermod-device-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const ca = await createTestCa()
const caFile = join(dir, 'ca.pem')
await writeFile(caFile, ca.certificatePem)

async function file (name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

/** Checks `response` against the documented branch `title` of DeviceAnswer (the OpenAPI schema must not drift). */
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true })
ajv.addSchema(provisionResultSchema)
function documented (t: Test, title: string, response: unknown): void {
  const branch = deviceAnswerSchema.anyOf.find((b) => b.title === title)
  const validate = ajv.compile({ ...branch, additionalProperties: false })
  t.ok(validate(response), `the ${title} answer is as documented ${JSON.stringify(validate.errors)}`)
}

t.test('provision (the public example): a JWS by the attestation key over a CSR for a new RSA 2048 key, verified by openssl and jose', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  const answer = await device.answer({ commandType: 'PROVISION', command: await example('provision-command') })
  t.equal(answer.status, 'OK')
  const response = answer.response as { responseformat: string, jws: string }
  t.equal(response.responseformat, 'jws')
  documented(t, 'provision (responseformat jws)', response)
  const header = JSON.parse(Buffer.from(response.jws.split('.')[0]!, 'base64url').toString('utf8'))
  t.match(header, { alg: 'RS256', typ: 'JWT', kid: 'attestation' })
  const attestationPem = new X509Certificate(Buffer.from(header.x5c[0], 'base64')).toString()
  const { stdout: chain } = await run('openssl', ['verify', '-CAfile', caFile, await file('attestation.pem', attestationPem)])
  t.match(chain, /: OK/, 'the x5c certificate chains to the test CA')
  const verified = await compactVerify(response.jws, await importX509(attestationPem, 'RS256'))
  const payload = JSON.parse(new TextDecoder().decode(verified.payload))
  t.equal(payload.nonce, '123456789', 'the nonce is echoed')
  t.match(payload, { userid: 'john.doe@example.com', profile: 'TestProfile', servername: 'hermod1' })
  t.match(payload.keys, [{ keyid: 'signer', usage: 'SIG', keytype: 'RSA', keylength: 2048, responsemechanism: 'RS256', subject: 'CN=john.doe@example.com', subjectSource: 'userid' }])
  t.match(payload.notes[0], /dummy certreq is not a PKCS#10 request.*CN=john\.doe@example\.com/, 'the cut-short dummy is reported, not a failure')
  const csr = await file('csr.der', Buffer.from(payload.keys[0].certreq, 'base64'))
  const { stdout, stderr } = await run('openssl', ['req', '-inform', 'DER', '-in', csr, '-verify', '-noout', '-subject', '-pubkey'])
  t.match(stderr + stdout, /verify OK/)
  t.match(stdout, /subject=CN = john\.doe@example\.com/)
  t.match(stdout, new RegExp(payload.keys[0].publickey.slice(0, 40).replace(/[+/]/g, '.')), 'the CSR carries the new public key')
  t.match(device.profile, { userid: 'john.doe@example.com', profileName: 'TestProfile', keys: [{ keyid: 'signer', keytype: 'RSA', publicKey: payload.keys[0].publickey }] }, 'the device keeps the profile')
})

t.test('provision: a parsable dummy gives its subject to the new EC key\'s CSR; a json responseformat answers unsigned', async (t) => {
  const key = await file('dummy.key', '')
  await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', '/O=Acme/CN=Jane Roe', '-outform', 'DER', '-out', join(dir, 'dummy.der')])
  const dummy = (await readFile(join(dir, 'dummy.der'))).toString('base64')
  const device = new VirtualDevice(await createProfile(ca), ca)
  const answer = await device.answer({
    commandType: 'provision',
    command: { provCommand: { nonce: 7, userid: 'jane', responseformat: 'json', profile: { keygenrequests: [{ keyid: 'auth', keytypeprios: [{ keytype: 'DSA' }, { keytype: 'EC', keylength: '256' }], certreq: dummy }] } } }
  })
  t.equal(answer.status, 'OK')
  const { result } = answer.response as { result: any }
  documented(t, 'provision (any other responseformat)', answer.response)
  t.match(result, { nonce: '7', keys: [{ keyid: 'auth', keytype: 'EC', keylength: 'P-256', subject: 'O=Acme, CN=Jane Roe', subjectSource: 'certreq' }], notes: [] })
  const { stdout, stderr } = await run('openssl', ['req', '-inform', 'DER', '-in', await file('ec.der', Buffer.from(result.keys[0].certreq, 'base64')), '-verify', '-noout', '-subject', '-text'])
  t.match(stderr + stdout, /verify OK/)
  t.match(stdout, /O = Acme, CN = Jane Roe/)
  t.match(stdout, /prime256v1|P-256/)
})

t.test('provision: no supported key type is REJECTED with the reason', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  const answer = await device.answer({ commandType: 'PROVISION', command: { provCommand: { profile: { keygenrequests: [{ keyid: 'k', keytypeprios: [{ keytype: 'RSA', keylength: '1024' }] }] } } } })
  t.match(answer, { status: 'REJECTED', response: { reason: /keygenrequests\[0\] \(k\): no key type/ } })
})

t.test('sign (the public example) without provisioning: CMS SignedData by the default test identity, verified by openssl against the test CA', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  const answer = await device.answer({ commandType: 'SIGN', command: await example('sign-command') })
  t.equal(answer.status, 'OK')
  const response = answer.response as any
  t.match(response, { keyid: 'test-identity', signatures: [{ key: 'tbs', format: 'pkcs7', mechanism: 'CKM_SHA256_RSA_PKCS' }] })
  t.equal(response.signature, response.signatures[0].signature)
  documented(t, 'sign', response)
  const cms = await file('sign.p7', Buffer.from(response.signature, 'base64'))
  const { stdout, stderr } = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-CAfile', caFile])
  t.match(stderr, /Verification successful/)
  t.equal(stdout, 'Transfer 500 USD from Cayman Island to Holebrook Ltd.', 'over the decoded tbs data')
  const other = await createTestCa()
  const otherFile = await file('other-ca.pem', other.certificatePem)
  await t.rejects(run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-CAfile', otherFile]), 'another CA does not verify it')
})

t.test('sign: the filter selects the provisioned key; raw format is a PKCS#1 signature openssl dgst verifies; no matching key is REJECTED', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  await device.answer({ commandType: 'PROVISION', command: { provCommand: { userid: 'u', profile: { keygenrequests: [{ keyid: 'ec1', keytypeprios: [{ keytype: 'EC' }] }] } } } })
  const data = Buffer.from('pay 10 EUR')
  const ec = await device.answer({ commandType: 'SIGN', command: { signCommand: { params: { tbs: data.toString('base64'), filter: { op: 'eq', param: 'key.type', value: 'EC' }, format: 'raw' } } } })
  t.match(ec.response, { keyid: 'ec1', signatures: [{ format: 'raw', mechanism: 'CKM_ECDSA_SHA256' }] })
  const pub = await file('ec1.pub', `-----BEGIN PUBLIC KEY-----\n${device.profile.keys[0]!.publicKey}\n-----END PUBLIC KEY-----\n`)
  const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', await file('ec.sig', Buffer.from((ec.response as any).signature, 'base64')), await file('data.bin', data)])
  t.match(stdout, /Verified OK/)
  const rsa = await device.answer({ commandType: 'SIGN', command: { signCommand: { params: { tbs: [{ key: 'a', data: 'plain text', content_encoding: 'none' }], filter: { op: 'eq', param: 'key.type', value: 'RSA' } } } } })
  t.match(rsa.response, { keyid: 'test-identity' }, 'no RSA key provisioned: the test identity')
  const none = await device.answer({ commandType: 'SIGN', command: { signCommand: { params: { tbs: 'AA==', filter: { op: 'eq', param: 'key.id', value: 'nope' } } } } })
  t.match(none, { status: 'REJECTED', response: { reason: /no key of this device matches the filter/ } })
  const badMechanism = await device.answer({ commandType: 'SIGN', command: { signCommand: { params: { tbs: 'AA==', mechanism: 'CKM_MD5_RSA_PKCS' } } } })
  t.equal(badMechanism.status, 'REJECTED')
})

t.test('certificate: installed on the key with the same public key, REJECTED for a key the device does not hold', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  const provisioned = await device.answer({ commandType: 'PROVISION', command: { provCommand: { userid: 'u', responseformat: 'json', profile: { keygenrequests: [{ keyid: 'signer', keytypeprios: [{ keytype: 'RSA', keylength: '2048' }] }] } } } })
  const csr = await file('cert.csr', Buffer.from((provisioned.response as any).result.keys[0].certreq, 'base64'))
  const primeKey = join(dir, 'prime.key')
  const primeCa = join(dir, 'prime-ca.pem')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', primeKey, '-subj', '/CN=PRIME test CA', '-days', '2', '-out', primeCa])
  const certFile = join(dir, 'issued.pem')
  await run('openssl', ['x509', '-req', '-inform', 'DER', '-in', csr, '-CA', primeCa, '-CAkey', primeKey, '-CAcreateserial', '-days', '1', '-out', certFile])
  const issued = await readFile(certFile, 'utf8')
  const der = new X509Certificate(issued).raw.toString('base64')
  const answer = await device.answer({ commandType: 'CERTIFICATE', command: { certCommand: { userid: 'u', certificates: [{ keyid: 'signer', certificate: der }, await readFile(primeCa, 'utf8')] } } })
  t.match(answer, { status: 'OK', response: { installed: [{ keyid: 'signer', subject: 'CN=u', issuer: 'CN=PRIME test CA' }] } })
  t.equal(device.profile.keys[0]!.certificateSource, 'delivered')
  documented(t, 'certificate', answer.response)
  documented(t, 'REJECTED', (await device.answer({ commandType: 'CERTIFICATE', command: {} })).response)
  const signed = await device.answer({ commandType: 'SIGN', command: { signCommand: { params: { tbs: 'aGk=' } } } })
  const { stderr } = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', await file('after.p7', Buffer.from((signed.response as any).signature, 'base64')), '-CAfile', primeCa])
  t.match(stderr, /Verification successful/, 'the next signature carries the delivered certificate')
  const wrongKeyid = await device.answer({ commandType: 'CERTIFICATE', command: { certCommand: { certificates: [{ keyid: 'other', certificate: der }] } } })
  t.match(wrongKeyid, { status: 'REJECTED', response: { reason: /for key signer, not for keyid other/ } })
  const foreign = await device.answer({ commandType: 'CERTIFICATE', command: { certCommand: { certificate: ca.certificatePem, keyid: 'signer' } } })
  t.match(foreign, { status: 'REJECTED' }, 'only a CA certificate: nothing for a held key')
  const stranger = (await createProfile(ca)).identity.certificates[0]!
  const unknown = await device.answer({ commandType: 'CERTIFICATE', command: { certCommand: { certificate: stranger } } })
  t.match(unknown, { status: 'REJECTED', response: { reason: /matches no key this device holds/ } })
  t.match(await device.answer({ commandType: 'CERTIFICATE', command: { certCommand: {} } }), { status: 'REJECTED', response: { reason: /no certificate/ } })
})

t.test('authenticate (the public example): the parameters signed as CMS; a challenge is signed as given; ping is OK', async (t) => {
  const device = new VirtualDevice(await createProfile(ca), ca)
  const answer = await device.answer({ commandType: 'AUTHENTICATE', command: await example('authenticate-command') })
  t.equal(answer.status, 'OK')
  const response = answer.response as any
  const { stdout, stderr } = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', await file('auth.p7', Buffer.from(response.signature, 'base64')), '-CAfile', caFile])
  t.match(stderr, /Verification successful/)
  t.equal(stdout, Buffer.from(response.signedData, 'base64').toString('utf8'))
  documented(t, 'authenticate', response)
  documented(t, 'ping', (await device.answer({ commandType: 'PING' })).response)
  const challenge = await device.answer({ commandType: 'AUTHENTICATE', command: { authCommand: { params: { challenge: 'c-4711', format: 'raw' } } } })
  t.equal(Buffer.from((challenge.response as any).signedData, 'base64').toString(), 'c-4711')
  t.match(await device.answer({ commandType: 'PING' }), { status: 'OK', response: { pong: true } })
  t.match(await device.answer({ commandType: 'DANCE' }), { status: 'REJECTED' })
})
