// `hermod-broker start` refuses what cannot work and exits: a split role on the embedded store, a placeholder key,
// a port in use on the Redis store.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { startRedis } from '../helpers/redis-server.js'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

/** Runs `start` to its exit (killed after `limitMs`): exit code, output, and whether it had to be killed. */
async function runStart (
  args: string[], env: Record<string, string> = {}, limitMs = 30_000
): Promise<{ code: number | null, out: string, killed: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--set', 'broker.log.pretty=false', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  let killed = false
  const timer = setTimeout(() => { killed = true; child.kill('SIGKILL') }, limitMs)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, out, killed }
}

const plainConfig = (extra = ''): string => `server:\n  port: 0\n  address: 127.0.0.1\n  ssl:\n    enabled: false\n${extra}`

t.test('--role api and --role worker on the embedded store: refused at start with why and what to do', async (t) => {
  const dir = t.testdir({ 'application.yml': plainConfig() })
  for (const role of ['api', 'worker']) {
    const result = await runStart(['--config', join(dir, 'application.yml'), '--role', role])
    t.equal(result.killed, false, `${role}: the process exits by itself`)
    t.not(result.code, 0, `${role}: exit code non-zero`)
    t.match(result.out, new RegExp(`--role ${role} needs the Redis store`), role)
    t.match(result.out, /broker\.store: redis/, 'says what to do')
    t.notMatch(result.out, /hermod-broker listening/, 'never listened')
  }
})

t.test('a client key left at the example placeholder is refused at start', async (t) => {
  const dir = t.testdir({ 'application.yml': plainConfig('allowed-clients:\n  - client-id: prime\n    key: ${HERMOD_TEST_KEY:CHANGE_ME}\n    group: acme\n') })
  const result = await runStart(['--config', join(dir, 'application.yml')])
  t.not(result.code, 0)
  t.equal(result.killed, false)
  t.match(result.out, /allowed-clients\[0\] \(client-id prime\): the key is still the example placeholder/)
  t.match(result.out, /generate-client prime/)
  t.notMatch(result.out, /hermod-broker listening/, 'never listened')
  const empty = await runStart(['--config', join(dir, 'application.yml')], { HERMOD_TEST_KEY: '' })
  t.not(empty.code, 0, 'an empty key is refused too')
  t.match(empty.out, /allowed-clients\[0\]\.key: must not be empty/)
})

t.test('Redis store, port already in use: the process closes what it opened and exits non-zero with a clear message', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const port = (taken.address() as { port: number }).port
  const dir = t.testdir({ 'application.yml': plainConfig() })
  const started = Date.now()
  const result = await runStart(['--config', join(dir, 'application.yml'), '--port', String(port), '--set', 'broker.store=redis', '--set', `broker.redis.url=${redis.url}`])
  t.equal(result.killed, false, `the process exits by itself (it ran ${Date.now() - started} ms; output: ${result.out.slice(-400)})`)
  t.equal(result.code, 1, 'exit code 1')
  t.match(result.out, new RegExp(`cannot listen on 127\\.0\\.0\\.1 port ${port}: the port is in use`))
})
