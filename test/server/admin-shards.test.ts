// A Redis-store broker with callback queue shards: dead letters of clients in different shards listed and replayed
// over the admin API, and the queue metrics summed over the shards.
import t from 'tap'
import { Redis } from 'ioredis'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { shardOf } from '../../src/callbacks/bullmq-shards.js'
import { createBroker } from '../../src/server/broker.js'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

t.test('dead letters of two shards over the admin API, replayed; hermod_callbacks sums the shards', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  let accept = false
  const receiver = await startReceiver((_req, res) => { res.writeHead(accept ? 200 : 410).end() })
  t.teardown(() => receiver.close())
  const shards = 4
  t.not(shardOf('prime', shards), shardOf('hag', shards), 'the two clients hash to different shards')
  const prefix = freshPrefix()
  const broker = await createBroker(testConfig({
    allowedClients: testClients(receiver.url),
    broker: {
      store: 'redis',
      redis: { url: redis.url, prefix, options: {} },
      callbacks: { queueShards: shards },
      admin: { username: 'ops', password: 'ops-pass-42' }
    }
  }))
  t.teardown(() => broker.close())
  broker.start()
  const auth = { authorization: `Basic ${Buffer.from('ops:ops-pass-42').toString('base64')}` }
  const commandOf = new Map<string, string>()
  for (const client of ['prime', 'hag'] as const) {
    const headers = { 'x-api-key': apiKeyHeader(client, KEYS[client]) }
    const accepted = (await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers, payload: {} })).json()
    commandOf.set(client, accepted.commandId)
    t.equal((await broker.app.inject({ method: 'DELETE', url: `/hermod/rest/command/${accepted.commandId}`, headers })).statusCode, 200)
  }
  await waitFor(() => receiver.requests.length === 2, 10_000, 'both refused attempts')
  let letters: Array<{ id: string, clientId: string, commandId: string }> = []
  for (let i = 0; i < 100 && letters.length < 2; i++) {
    letters = (await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', headers: auth })).json().deadLetters
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.same(letters.map((l) => l.clientId).sort(), ['hag', 'prime'])
  for (const letter of letters) t.equal(letter.commandId, commandOf.get(letter.clientId))
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  for (const client of ['prime', 'hag']) {
    const failed = await admin.zcard(`${prefix}:{cb:${shardOf(client, shards)}}:callbacks:failed`)
    t.equal(failed, 1, `${client}'s dead letter in its shard`)
  }
  const metrics = async (): Promise<string> => (await broker.app.inject({ url: '/hermod/actuator/prometheus' })).body
  t.match(await metrics(), /hermod_callbacks\{state="deadLettered"\} 2\b/)
  accept = true
  for (const letter of letters) {
    const replay = await broker.app.inject({ method: 'POST', url: `/hermod/admin/callbacks/dead-letters/${encodeURIComponent(letter.id)}/replay`, headers: auth })
    t.equal(replay.statusCode, 200)
  }
  await waitFor(() => receiver.requests.length === 4, 10_000, 'both replays delivered')
  t.same((await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', headers: auth })).json().deadLetters, [])
  let text = ''
  for (let i = 0; i < 100 && !/hermod_callbacks\{state="delivered"\} 2\b/.test(text); i++) {
    text = await metrics()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.match(text, /hermod_callbacks\{state="delivered"\} 2\b/)
  t.match(text, /hermod_callbacks\{state="deadLettered"\} 0\b/)
})
