// Dead letters for operators: listed and replayed over the admin API and the `dlq` CLI (R18), guarded.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker } from '../../src/server/broker.js'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { spawnBroker } from '../helpers/broker-process.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'

const run = promisify(execFile)
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

t.test('a refused callback is dead-lettered, listed, and replayed to a target that now accepts', async (t) => {
  let accept = false
  const receiver = await startReceiver((_req, res) => { res.writeHead(accept ? 200 : 410).end() })
  t.teardown(() => receiver.close())
  const broker = await createBroker(testConfig({ allowedClients: testClients(receiver.url), broker: { admin: { username: 'ops', password: 'ops-pass-42' } } }))
  t.teardown(() => broker.close())
  broker.start()
  const accepted = (await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) }, payload: {} })).json()
  await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) } })
  const auth = { authorization: `Basic ${Buffer.from('ops:ops-pass-42').toString('base64')}` }
  let letters: any[] = []
  await waitFor(() => receiver.requests.length === 1, 5000, 'the refused attempt')
  for (let i = 0; i < 50 && letters.length === 0; i++) {
    letters = (await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', headers: auth })).json().deadLetters
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.match(letters, [{ commandId: accepted.commandId, state: 'CANCELLED', commandType: 'SIGN', attempts: 1, reason: /410/ }])
  t.equal((await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters' })).statusCode, 401, 'credentials required when configured')
  t.equal((await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` } })).statusCode, 401)
  accept = true
  const replay = await broker.app.inject({ method: 'POST', url: `/hermod/admin/callbacks/dead-letters/${encodeURIComponent(letters[0].id)}/replay`, headers: auth })
  t.equal(replay.statusCode, 200)
  await waitFor(() => receiver.requests.length === 2, 5000, 'the replayed delivery')
  t.equal(receiver.requests[1]!.headers['webhook-id'], receiver.requests[0]!.headers['webhook-id'], 'the same webhook-id')
  const unknown = await broker.app.inject({ method: 'POST', url: '/hermod/admin/callbacks/dead-letters/nope/replay', headers: auth })
  t.equal(unknown.statusCode, 404)
})

t.test('without admin credentials the admin API answers loopback callers only', async (t) => {
  const broker = await createBroker(testConfig())
  t.teardown(() => broker.close())
  t.equal((await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters' })).statusCode, 200)
  t.equal((await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', remoteAddress: '192.0.2.7' })).statusCode, 403)
})

t.test('hermod-broker dlq list and replay talk to a running broker', async (t) => {
  const receiver = await startReceiver((_req, res) => { res.writeHead(404).end() })
  t.teardown(() => receiver.close())
  const broker = await spawnBroker({ env: { SERVER_SSL_ENABLED: 'false', SERVER_PORT: '0', ALLOWEDCLIENTS_0_CLIENTID: 'prime', ALLOWEDCLIENTS_0_KEY: KEYS.prime, ALLOWEDCLIENTS_0_GROUP: 'acme', ALLOWEDCLIENTS_0_CALLBACKURL: receiver.url }, args: ['--config', new URL('../../config/application.yml', import.meta.url).pathname] })
  t.teardown(() => broker.stop('SIGKILL'))
  const res = await fetch(`${broker.url}/hermod/rest/command/ping`, { method: 'POST', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) } })
  const { commandId } = await res.json() as { commandId: string }
  await fetch(`${broker.url}/hermod/rest/command/${commandId}`, { method: 'DELETE', headers: { 'x-api-key': apiKeyHeader('prime', KEYS.prime) } })
  await waitFor(() => receiver.requests.length === 1, 5000, 'the refused callback')
  let list = { stdout: '' }
  for (let i = 0; i < 20 && !list.stdout.includes(commandId); i++) {
    list = await run(process.execPath, ['--import', 'tsx', MAIN, 'dlq', 'list', '--url', `${broker.url}/hermod`])
  }
  const letters = JSON.parse(list.stdout).deadLetters
  t.match(letters, [{ commandId, state: 'CANCELLED', reason: /404/ }])
  const replay = await run(process.execPath, ['--import', 'tsx', MAIN, 'dlq', 'replay', letters[0].id, '--url', `${broker.url}/hermod`])
  t.match(JSON.parse(replay.stdout), { replayed: true })
  await waitFor(() => receiver.requests.length === 2, 5000, 'the replayed attempt')
  const missing = await run(process.execPath, ['--import', 'tsx', MAIN, 'dlq', 'replay', 'nope', '--url', `${broker.url}/hermod`]).catch((err: { code: number }) => err)
  t.equal((missing as { code: number }).code, 1)
})
