// The README's curl session, run as written against `hermod-broker start` on the bundled config.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { spawnBroker } from '../helpers/broker-process.js'
import { freePort } from '../helpers/redis-server.js'

const root = new URL('../../', import.meta.url)
const run = promisify(execFile)

/** The shell block under "### A session with curl". */
function readmeSession (): string {
  const readme = readFileSync(new URL('README.md', root), 'utf8')
  const section = readme.slice(readme.indexOf('### A session with curl'))
  const match = /```sh\n([\s\S]*?)```/.exec(section)
  if (match === null) throw new Error('no sh block under "A session with curl"')
  return match[1]!
}

t.test('the README curl session works against npm start\'s configuration', async (t) => {
  const port = await freePort()
  const broker = await spawnBroker({ env: { SERVER_PORT: String(port) }, args: ['--config', new URL('config/application.yml', root).pathname] })
  t.teardown(() => broker.stop('SIGKILL'))
  const script = readmeSession()
  t.match(script, /https:\/\/localhost:20400\/hermod/, 'the README talks to the default port')
  // Only the port changes, so the test can run next to a broker someone started on 20400.
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script.replaceAll('localhost:20400', `localhost:${port}`)], { timeout: 60_000 })
  const lines = stdout.trim().split('\n')
  const accepted = JSON.parse(lines[0]!)
  t.match(accepted, { commandType: 'SIGN', state: 'IN_PROGRESS', destinations: [{ to: '@tmp' }] })
  t.equal(JSON.parse(lines[1]!).messages.length, 1, 'the device sees its message')
  t.match(JSON.parse(lines[2]!), { commandType: 'SIGN', header: { timeout: 60, lifespan: 120, externalId: 'order-17' }, command: { signCommand: { params: { tbs: 'VGVzdA==' } } } })
  t.same(JSON.parse(lines[3]!), { state: 'COMPLETED' })
  t.match(JSON.parse(lines[4]!), { commandId: accepted.commandId, state: 'COMPLETED', response: { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' } })
  const sink = JSON.parse(lines[5]!)
  t.match(sink.callbacks[0], { path: '/hermod/dev/callback/sign', body: { commandId: accepted.commandId, state: 'COMPLETED' } }, 'the callback reached the dev sink')
})
