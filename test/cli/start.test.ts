// The process: `hermod-broker start` on a Hermod config, SIGHUP reloads clients, SIGTERM exits cleanly; generate-client.
import t from 'tap'
import { spawn, execFile } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import { parse } from 'yaml'
import { apiKeyHeader } from '../../src/auth/api-key.js'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const run = promisify(execFile)

function clientsYaml (clients: Array<[string, string]>): string {
  return clients.map(([id, key]) => `  - clientId: ${id}\n    key: ${key}\n    group: acme\n`).join('')
}

const K1 = 'a'.repeat(64)
const K2 = 'b'.repeat(64)

t.test('start serves a camelCase Hermod config, reloads clients on SIGHUP, exits 0 on SIGTERM', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'application.yml')
  const config = (clients: Array<[string, string]>): string => `server:\n  port: 0\n  ssl:\n    enabled: false\nspring:\n  datasource:\n    url: jdbc:postgresql://db/hermod\nallowedClients:\n${clientsYaml(clients)}`
  writeFileSync(file, config([['prime1', K1]]))
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', file, '--set', 'broker.log.pretty=false'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const deadline = Date.now() + 30_000
  while (!/"msg":"hermod-broker listening"/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50))
  const listening = out.split('\n').find((l) => l.includes('"msg":"hermod-broker listening"'))
  t.ok(listening, `started (output: ${out.slice(0, 500)})`)
  const port = JSON.parse(listening!).port as number
  t.match(out, /spring\.datasource\.url/, 'the unused Spring key is named in a notice')
  const post = async (id: string, key: string): Promise<number> => (await request(`http://127.0.0.1:${port}/hermod/rest/command/ping`, { method: 'POST', headers: { 'x-api-key': apiKeyHeader(id, key) } })).statusCode
  t.equal(await post('prime1', K1), 200)
  t.equal(await post('hag1', K2), 401, 'not yet a client')
  writeFileSync(file, config([['prime1', K1], ['hag1', K2]]))
  child.kill('SIGHUP')
  const reloadDeadline = Date.now() + 10_000
  while (!out.includes('allowed-clients reloaded') && Date.now() < reloadDeadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await post('hag1', K2), 200, 'SIGHUP added the client without a restart')
  t.notMatch(out, new RegExp(`${K1}|${K2}`), 'keys never reach the logs')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'SIGTERM: a clean exit')
})

t.test('a broken config stops start-up with every problem listed', async (t) => {
  const dir = t.testdir({ 'bad.yml': 'server:\n  port: 99999\nbroker:\n  stor: redis\n  callbacks:\n    attempts: -1\n' })
  const result = await run(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', join(dir, 'bad.yml')]).catch((err: { code: number, stderr: string }) => err)
  t.equal((result as { code: number }).code, 1)
  const stderr = (result as { stderr: string }).stderr
  t.match(stderr, /server\.port/)
  t.match(stderr, /broker\.stor/)
  t.match(stderr, /attempts/)
})

t.test('generate-client prints the same entry as the endpoint', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'generate-client', 'idm2', '--group', 'acme'])
  t.match(stdout, /^# X-Api-Key: [A-Za-z0-9+/]+=*\n- client-id: idm2\n {2}key: [0-9a-f]{64}\n {2}group: acme\n/)
  const entry = parse(stdout)[0]
  t.equal(Buffer.from(stdout.split('\n')[0]!.slice('# X-Api-Key: '.length), 'base64').toString(), `idm2:${entry.key}`)
  const bad = await run(process.execPath, ['--import', 'tsx', MAIN, 'generate-client']).catch((err: { code: number }) => err)
  t.equal((bad as { code: number }).code, 2)
})
