// `hermod-broker start` on the bundled dev config as a new user runs it: --port moves the dev sink's callback URL too,
// the pid is logged, the certificate survives a restart.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { Agent, request } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { freePort } from '../helpers/redis-server.js'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const DEV_CONFIG = new URL('../../config/application.yml', import.meta.url).pathname
const DEMO_KEY = '46ab6f3f417fa3f0112e4f2e62c84876e0cf5e1647e701f712771cad3c831016'

interface Started { child: ChildProcess, listening: Record<string, unknown>, output: () => string }

/** Starts the dev config in `cwd` with `args` and resolves with its "listening" log line. */
async function startDev (t: Test, cwd: string, args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', DEV_CONFIG, '--set', 'broker.log.pretty=false', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  for (const deadline = Date.now() + 30_000; !out.includes('"msg":"hermod-broker listening"');) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const line = out.split('\n').find((l) => l.includes('"msg":"hermod-broker listening"'))!
  return { child, listening: JSON.parse(line), output: () => out }
}

async function stop (started: Started): Promise<void> {
  if (started.child.exitCode !== null) return
  started.child.kill('SIGTERM')
  await once(started.child, 'exit')
}

/** The SHA-256 fingerprint of the certificate the server at `port` presents. */
async function presentedFingerprint (port: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
  await once(socket, 'secureConnect')
  const fingerprint = socket.getPeerCertificate().fingerprint256
  socket.destroy()
  return fingerprint
}

t.test('start --port N on the dev config: the demo client\'s callbacks reach the dev sink on N, the pid is logged', async (t) => {
  const cwd = t.testdir()
  const port = await freePort()
  const broker = await startDev(t, cwd, ['--port', String(port)])
  t.teardown(() => stop(broker))
  t.equal(broker.listening.port, port)
  t.equal(broker.listening.pid, broker.child.pid, 'the listening line names the process to signal')
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => dispatcher.close())
  const base = `https://127.0.0.1:${port}/hermod`
  const accepted = await request(`${base}/rest/command/ping`, { method: 'POST', dispatcher, headers: { 'x-api-key': apiKeyHeader('demo', DEMO_KEY) } })
  t.equal(accepted.statusCode, 200)
  const acceptedBody = await accepted.body.json() as { commandId: string, destinations: Array<{ bid: string, mid: string }> }
  const { commandId, destinations: [d] } = acceptedBody
  const answered = await request(`${base}/rest/ms/${d!.bid}/${d!.mid}`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: '{"status":"OK","response":{}}' })
  t.equal(answered.statusCode, 200)
  await answered.body.dump()
  let callbacks: Array<{ body: { commandId: string } }> = []
  for (const deadline = Date.now() + 15_000; callbacks.length === 0 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    callbacks = (await (await request(`${base}/dev/callbacks`, { dispatcher })).body.json() as { callbacks: typeof callbacks }).callbacks
  }
  t.equal(callbacks[0]?.body.commandId, commandId, 'the callback went to the dev sink on the port the broker listens on')
  t.notMatch(broker.output(), /callback attempt failed|ECONNREFUSED/, 'no failed attempt to the default port')
})

t.test('the self-signed certificate is kept in the data folder: two starts present the same fingerprint', async (t) => {
  const cwd = t.testdir()
  const first = await startDev(t, cwd, ['--port', String(await freePort())])
  const firstPrint = await presentedFingerprint(first.listening.port as number)
  t.match(first.output(), /generated a self-signed certificate for localhost, kept in/)
  await stop(first)
  t.ok(existsSync(join(cwd, '.hermod', 'tls', 'self-signed.crt')), 'kept under <cwd>/.hermod/tls (broker.data-dir)')
  const second = await startDev(t, cwd, ['--port', String(await freePort())])
  t.teardown(() => stop(second))
  t.equal(await presentedFingerprint(second.listening.port as number), firstPrint, 'the same certificate after a restart')
  t.match(second.output(), /self-signed certificate for localhost reused from/)
  t.match(second.output(), new RegExp(`"sha256":"${firstPrint}"`), 'the logged fingerprint is the presented one')
})
