// docker-compose.yml: parsed and checked, then the same topology run without Docker (Redis + 2 brokers as processes).
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { parse } from 'yaml'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { spawnBroker } from '../helpers/broker-process.js'
import { freePort, startRedis } from '../helpers/redis-server.js'
import { startReceiver, waitFor, sleep } from '../callbacks/helpers.js'

const root = new URL('../../', import.meta.url)
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) // compose applies YAML merge keys
const run = promisify(execFile)

t.test('docker-compose.yml: Redis with AOF and noeviction, two brokers on it, health checks, Hermod\'s config mount', async (t) => {
  const redis = compose.services.redis
  const command: string[] = redis.command
  t.same(command.slice(command.indexOf('--appendonly'), command.indexOf('--appendonly') + 2), ['--appendonly', 'yes'])
  t.same(command.slice(command.indexOf('--maxmemory-policy'), command.indexOf('--maxmemory-policy') + 2), ['--maxmemory-policy', 'noeviction'])
  t.ok(redis.healthcheck, 'redis has a health check')
  const brokers = Object.entries(compose.services).filter(([name]) => name.startsWith('broker-')) as Array<[string, any]>
  t.equal(brokers.length, 2)
  for (const [name, service] of brokers) {
    t.equal(service.environment.BROKER_STORE, 'redis', name)
    t.match(service.environment.BROKER_REDIS_URL, /^redis:\/\/redis:6379$/)
    t.same(service.depends_on, { redis: { condition: 'service_healthy' } })
    t.ok(service.volumes.includes('./config:/app/config:ro'), 'config/application.yml mounted as Hermod does')
    t.same(service.healthcheck.test, ['CMD', 'node', 'dist/src/cli/main.js', 'healthcheck'])
  }
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8')
  t.match(dockerfile, /^FROM node:20/m)
  t.match(dockerfile, /COPY src\/mailbox\/scripts/, 'the Lua scripts ship in the image')
})

t.test('the compose topology without Docker: post on one instance, answer on the other, one callback', async (t) => {
  const redisCommand: string[] = compose.services.redis.command
  const redis = await startRedis({ appendonly: true, appendfsync: redisCommand[redisCommand.indexOf('--appendfsync') + 1] as 'everysec' })
  t.teardown(() => redis.destroy())
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const brokers = []
  for (const name of ['broker-1', 'broker-2']) {
    const env: Record<string, string> = { ...compose.services[name].environment }
    env.BROKER_REDIS_URL = env.BROKER_REDIS_URL!.replace('redis://redis:6379', redis.url)
    env.SERVER_PORT = String(await freePort())
    env.ALLOWEDCLIENTS_0_CALLBACKURL = `${receiver.url}/hermod-callbacks`
    const broker = await spawnBroker({ env, args: ['--config', new URL('config/application.yml', root).pathname] })
    t.teardown(() => broker.stop('SIGKILL'))
    brokers.push({ broker, env })
  }
  const [one, two] = brokers
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => dispatcher.close())
  const demoKey = /key: ([0-9a-f]{64})/.exec(readFileSync(new URL('config/application.yml', root), 'utf8'))![1]!
  const accepted = await request(`${one!.broker.url}/hermod/rest/command/sign`, {
    method: 'POST', dispatcher, headers: { 'x-api-key': apiKeyHeader('demo', demoKey), 'content-type': 'application/json' }, body: JSON.stringify({ signCommand: { tbs: 'x' } })
  })
  t.equal(accepted.statusCode, 200)
  const { destinations: [d] } = await accepted.body.json() as any
  const read = await request(`${two!.broker.url}/hermod/rest/ms/${d.bid}/${d.mid}`, { dispatcher })
  t.equal(read.statusCode, 200, 'the other instance serves the device')
  await read.body.dump()
  const answer = await request(`${two!.broker.url}/hermod/rest/ms/${d.bid}/${d.mid}`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: '{"status":"OK","response":"sig"}' })
  t.equal(answer.statusCode, 200)
  await answer.body.dump()
  await waitFor(() => receiver.requests.length >= 1, 10_000, 'the callback')
  await sleep(1000)
  t.equal(receiver.requests.length, 1, 'one callback for the two instances')
  t.equal(receiver.requests[0]!.url, '/hermod-callbacks/callback/sign')
  for (const { env } of brokers) {
    const health = await run(process.execPath, ['--import', 'tsx', new URL('src/cli/main.ts', root).pathname, 'healthcheck', '--config', new URL('config/application.yml', root).pathname], { env: { ...process.env, ...env } })
    t.match(health.stdout, /^200 .*"status":"UP"/, 'the image\'s healthcheck command sees a ready broker')
  }
})
