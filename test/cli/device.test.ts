// `hermod-broker device` end to end against a real HTTPS broker: provision, certificate, sign across invocations, verified with openssl.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { spawnBroker } from '../helpers/broker-process.js'
import { freePort } from '../helpers/redis-server.js'

const run = promisify(execFile)

/** Waits until `check` resolves true (asking every 100 ms), failing after `timeoutMs`. */
async function waitFor (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const CONFIG = new URL('../../config/application.yml', import.meta.url).pathname
/** The bundled config's demo client. */
const KEY = 'ZGVtbzo0NmFiNmYzZjQxN2ZhM2YwMTEyZTRmMmU2MmM4NDg3NmUwY2Y1ZTE2NDdlNzAxZjcxMjc3MWNhZDNjODMxMDE2'

// About fifteen CLI processes, each a cold tsx start (seconds each on a loaded 2-core machine).
t.setTimeout(600_000)

const dir = await mkdtemp(join(tmpdir(), 'hermod-device-cli-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const env = { ...process.env, HERMOD_DEVICE_DIR: join(dir, 'data') }
const port = await freePort()
const broker = await spawnBroker({ args: ['--config', CONFIG, '--set', 'fqdn=localhost'], env: { SERVER_PORT: String(port) }, startTimeoutMs: 120_000 })
t.teardown(() => broker.stop())
const base = `https://localhost:${port}/hermod`
const insecure = new Agent({ connect: { rejectUnauthorized: false } })
t.teardown(() => insecure.close())

async function api (method: string, path: string, body?: unknown): Promise<any> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    dispatcher: insecure,
    headers: { 'x-api-key': KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return await res.body.json()
}

/** A public example body; its 30 s sign timeout and lifespan are raised, since a CLI start takes seconds on a loaded machine. */
async function example (name: string): Promise<unknown> {
  const body = JSON.parse(await readFile(new URL(`../../examples/hermod/${name}.json`, import.meta.url), 'utf8'))
  return { ...body, commandHeader: { ...body.commandHeader, timeout: 600, lifespan: 600 } }
}

async function device (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'device', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

async function file (name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

/** The broker's self-signed TLS certificate, as a client sees it: what --ca trusts. */
async function brokerCertificate (): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw
      socket.end()
      resolve(new X509Certificate(der).toString())
    })
    socket.on('error', reject)
  })
}

const profile = join(dir, 'alice.json')

t.test('provision, certificate, sign: three invocations share the profile; the CSR and the CMS verify with openssl', async (t) => {
  // 1. Provision with the public example, answered from the plugout uri.
  const provision = await api('POST', '/rest/command/provision', await example('provision-command'))
  const uri = provision.destinations[0].uri as string
  const provisioned = await device(uri, '--insecure', '--profile', profile)
  t.equal(provisioned.code, 0, provisioned.stderr)
  t.match(provisioned.stdout, /PROVISION request\n {2}user: john\.doe@example\.com, profile: TestProfile\n {2}new key signer \(SIG\): RSA 2048/)
  t.match(provisioned.stdout, /answered OK: the command is COMPLETED/)
  let callback: any
  await waitFor(async () => {
    const sink = await (await request(`${base}/dev/callbacks`, { dispatcher: insecure })).body.json() as { callbacks: any[] }
    callback = sink.callbacks.find((c) => c.body.commandId === provision.commandId)
    return callback !== undefined
  }, 15_000, 'the provisioning callback at the dev sink')
  t.match(callback.body, { state: 'COMPLETED', commandType: 'PROVISION', response: { responseformat: 'jws' } })
  const payload = JSON.parse(Buffer.from(callback.body.response.jws.split('.')[1], 'base64url').toString('utf8'))
  t.equal(payload.nonce, '123456789')
  const csr = await file('signer.csr', Buffer.from(payload.keys[0].certreq, 'base64'))
  const verified = await run('openssl', ['req', '-inform', 'DER', '-in', csr, '-verify', '-noout', '-subject'])
  t.match(verified.stderr + verified.stdout, /verify OK/, 'openssl verifies the CSR from the callback')
  t.match(verified.stdout, /CN = john\.doe@example\.com/)

  // 2. PRIME's CA (openssl) issues the certificate; a certificate command delivers it; answered over --ca this time.
  const primeKey = join(dir, 'prime-ca.key')
  const primeCa = join(dir, 'prime-ca.pem')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', primeKey, '-subj', '/CN=PRIME test CA', '-days', '2', '-out', primeCa])
  const issued = join(dir, 'signer.pem')
  await run('openssl', ['x509', '-req', '-inform', 'DER', '-in', csr, '-CA', primeCa, '-CAkey', primeKey, '-CAcreateserial', '-days', '1', '-out', issued])
  const der = new X509Certificate(await readFile(issued)).raw.toString('base64')
  const certificate = await api('POST', '/rest/command/certificate', {
    commandHeader: { timeout: 60 },
    certCommand: { userid: 'john.doe@example.com', certificates: [{ keyid: 'signer', certificate: der }, await readFile(primeCa, 'utf8')] }
  })
  const tlsCa = await file('broker-tls.pem', await brokerCertificate())
  const installed = await device(certificate.destinations[0].location, '--ca', tlsCa, '--profile', profile)
  t.equal(installed.code, 0, installed.stderr)
  t.match(installed.stdout, /CERTIFICATE request\n→ answered OK: the command is COMPLETED/)
  t.match((await api('GET', `/rest/command/${certificate.commandId as string}`)).response, { installed: [{ keyid: 'signer', issuer: 'CN=PRIME test CA' }] })

  // 3. The public sign example, answered from a personal:// link; the CMS verifies against PRIME's CA.
  const sign = await api('POST', '/rest/command/sign', await example('sign-command'))
  const personal = `personal://sign?location=${encodeURIComponent(sign.destinations[0].location)}`
  const signed = await device(personal, '--ca', tlsCa, '--profile', profile)
  t.equal(signed.code, 0, signed.stderr)
  t.match(signed.stdout, /SIGN request\n {2}Signing request from: Personal\n {2}to sign: Text to sign: Transfer 500 USD from Cayman Island to Holebrook Ltd\.\n→ answered OK/)
  const status = await api('GET', `/rest/command/${sign.commandId as string}`)
  t.match(status, { state: 'COMPLETED', response: { keyid: 'signer' } })
  const cms = await file('sign.p7', Buffer.from(status.response.signature, 'base64'))
  const checked = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-CAfile', primeCa])
  t.match(checked.stderr, /Verification successful/, 'openssl verifies the CMS against the CA that issued the delivered certificate')
  t.equal(checked.stdout, 'Transfer 500 USD from Cayman Island to Holebrook Ltd.')
})

t.test('a fresh profile signs with its test identity; the CMS verifies against the test CA `device ca` prints', async (t) => {
  const sign = await api('POST', '/rest/command/sign', await example('sign-command'))
  const signed = await device(sign.destinations[0].uri, '--insecure', '--profile', join(dir, 'bob.json'))
  t.equal(signed.code, 0, signed.stderr)
  const caPem = await device('ca', '--profile', join(dir, 'bob.json'))
  t.equal(caPem.code, 0)
  t.equal(caPem.stdout, await readFile(join(dir, 'data', 'test-ca.json'), 'utf8').then((text) => JSON.parse(text).certificatePem), 'the data directory\'s CA')
  const status = await api('GET', `/rest/command/${sign.commandId as string}`)
  t.match(status.response, { keyid: 'test-identity' })
  const checked = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', await file('bob.p7', Buffer.from(status.response.signature, 'base64')), '-CAfile', await file('device-ca.pem', caPem.stdout)])
  t.match(checked.stderr, /Verification successful/)
})

t.test('--reject and --response answer as told; a wrong link or an untrusted certificate fails clearly', async (t) => {
  const auth = await api('POST', '/rest/command/authenticate', { commandHeader: { timeout: 60, externalId: 'login-1' }, authCommand: { params: {} } })
  const rejected = await device(auth.destinations[0].location, '--insecure', '--reject', '--reason', 'not me', '--profile', profile)
  t.equal(rejected.code, 0, rejected.stderr)
  t.match(rejected.stdout, /AUTHENTICATE request \(login-1\)\n→ answered REJECTED \(not me\): the command is REJECTED/)
  t.match(await api('GET', `/rest/command/${auth.commandId as string}`), { state: 'REJECTED', response: { reason: 'not me' } })
  const ping = await api('POST', '/rest/command/ping', { commandHeader: { timeout: 60 } })
  const given = await file('given.json', JSON.stringify({ hello: 'PRIME' }))
  t.equal((await device(ping.destinations[0].uri, '--insecure', '--response', given, '--profile', profile)).code, 0)
  t.match(await api('GET', `/rest/command/${ping.commandId as string}`), { state: 'COMPLETED', response: { hello: 'PRIME' } })
  const again = await device(ping.destinations[0].location, '--insecure', '--profile', profile)
  t.equal(again.code, 1, 'an answered message cannot be answered again')
  t.match(again.stdout, /the message cannot be read \(409 HERMOD_MESSAGE_DECIDED\)/)
  const untrusted = await device(ping.destinations[0].location, '--profile', profile)
  t.equal(untrusted.code, 1)
  t.match(untrusted.stderr, /certificate/i, 'the self-signed broker is not trusted without --ca or --insecure')
  const wrong = await device('https://example.com/nothing', '--profile', profile)
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /a location ends in \/ms\/<bid>\/<mid>/)
  const help = await device('--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /--watch/)
})

t.test('--watch long-polls a named box and answers by the rules until stopped', async (t) => {
  const rules = await file('rules.yml', 'rules:\n  - client: demo\n    type: sign\n    external-id: "order-*"\n    answer: canned\n  - client: demo\n    action: reject\n')
  const first = await api('POST', '/rest/command/ping', { commandHeader: { timeout: 60, to: ['carol'] } })
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'device', '--watch', first.destinations[0].uri, '--insecure', '--rules', rules, '--client', 'demo', '--wait', '2', '--profile', profile], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const state = async (id: string): Promise<string> => (await api('GET', `/rest/command/${id}`)).state
  await waitFor(async () => await state(first.commandId) !== 'IN_PROGRESS', 60_000, 'the waiting ping answered')
  t.equal(await state(first.commandId), 'REJECTED', 'the second rule: reject')
  const order = await api('POST', '/rest/command/sign', { commandHeader: { timeout: 60, to: ['carol'], externalId: 'order-9' }, signCommand: { params: { tbs: 'aGk=' } } })
  await waitFor(async () => await state(order.commandId) !== 'IN_PROGRESS', 60_000, 'the sign posted while watching')
  t.match(await api('GET', `/rest/command/${order.commandId as string}`), { state: 'COMPLETED', response: { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' } }, 'the first rule: canned')
  child.kill('SIGINT')
  t.equal(await exited, 0, out)
})
