// docker-compose.yml: parsed and checked, then the same topology run without Docker (Redis + 2 brokers as processes).
import t from 'tap'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
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
const PRODUCTION = new URL('config/production.yml', root).pathname

/** Compose's interpolation of `${NAME:-default}` and `${NAME:?message}` (an unset NAME with `?` fails, as compose does). */
function interpolate (environment: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value).replace(/\$\{(\w+):([-?])([^}]*)\}/g, (_m, key: string, kind: string, rest: string) => {
    const given = vars[key]
    if (given !== undefined && given !== '') return given
    if (kind === '?') throw new Error(`compose: ${key}: ${rest}`)
    return rest
  })]))
}

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
    t.ok(service.volumes.includes('./config/production.yml:/app/config/application.yml:ro'), 'the production example mounted at config/application.yml, as Hermod does')
    t.notOk(service.volumes.some((v: string) => v.startsWith('./config:')), 'not the dev config with its published demo key')
    t.throws(() => interpolate(service.environment, {}), /HERMOD_CLIENT_KEY: set HERMOD_CLIENT_KEY/, 'compose refuses to start without the client key')
    t.same(service.healthcheck.test, ['CMD', 'node', 'dist/src/cli/main.js', 'healthcheck'])
  }
  const production = readFileSync(PRODUCTION, 'utf8')
  t.match(production, /key: \$\{HERMOD_CLIENT_KEY:CHANGE_ME\}/, 'the key is a placeholder the broker refuses')
  t.match(production, /dev-sink: false/)
  t.notMatch(production, /^\s+key: [0-9a-f]{64}/m, 'no literal key')
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
  const clientKey = randomBytes(32).toString('hex')
  for (const name of ['broker-1', 'broker-2']) {
    const env = interpolate(compose.services[name].environment, { HERMOD_CLIENT_KEY: clientKey, HERMOD_CALLBACK_URL: `${receiver.url}/hermod-callbacks` })
    env.BROKER_REDIS_URL = env.BROKER_REDIS_URL!.replace('redis://redis:6379', redis.url)
    env.SERVER_PORT = String(await freePort())
    const broker = await spawnBroker({ env, args: ['--config', PRODUCTION] })
    t.teardown(() => broker.stop('SIGKILL'))
    brokers.push({ broker, env })
  }
  const [one, two] = brokers
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => dispatcher.close())
  const accepted = await request(`${one!.broker.url}/hermod/rest/command/sign`, {
    method: 'POST', dispatcher, headers: { 'x-api-key': apiKeyHeader('prime', clientKey), 'content-type': 'application/json' }, body: JSON.stringify({ signCommand: { tbs: 'x' } })
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
    const health = await run(process.execPath, ['--import', 'tsx', new URL('src/cli/main.ts', root).pathname, 'healthcheck', '--config', PRODUCTION], { env: { ...process.env, ...env } })
    t.match(health.stdout, /^200 .*"status":"UP"/, 'the image\'s healthcheck command sees a ready broker')
  }
})

t.test('the production example without its key: the broker refuses to start, saying which key and how to make one', async (t) => {
  const environment = interpolate(compose.services['broker-1'].environment, { HERMOD_CLIENT_KEY: 'placeholder-for-compose' })
  delete environment.HERMOD_CLIENT_KEY
  environment.BROKER_STORE = 'memory'
  environment.SERVER_PORT = String(await freePort())
  const result = await run(process.execPath, ['--import', 'tsx', new URL('src/cli/main.ts', root).pathname, 'start', '--config', PRODUCTION], { env: { ...process.env, ...environment }, timeout: 60_000 })
    .catch((err: { code: number, stderr: string }) => err)
  t.equal((result as { code: number }).code, 1, 'exit 1')
  t.match((result as { stderr: string }).stderr, /allowed-clients\[0\] \(client-id prime\): the key is still the example placeholder/)
  t.match((result as { stderr: string }).stderr, /generate-client prime/)
})
