// deploy/compose.cluster.yml and deploy/compose.sentinel.yml: parsed and checked, then the same topologies run without
// Docker (the nodes as processes with the files' arguments, two broker processes with the files' environment).
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { parse } from 'yaml'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { spawnBroker } from '../helpers/broker-process.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { freePort } from '../helpers/redis-server.js'
import { startRedisSentinel } from '../helpers/redis-sentinel.js'
import { startReceiver, waitFor, sleep } from '../callbacks/helpers.js'

const root = new URL('../../', import.meta.url)
const PRODUCTION = new URL('config/production.yml', root).pathname
const load = (file: string): any => parse(readFileSync(new URL(file, root), 'utf8'), { merge: true })
const cluster = load('deploy/compose.cluster.yml')
const sentinel = load('deploy/compose.sentinel.yml')

/** Compose's `${NAME:-default}` / `${NAME:?message}` interpolation. */
function interpolate (environment: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value).replace(/\$\{(\w+):([-?])([^}]*)\}/g, (_m, key: string, kind: string, rest: string) => {
    const given = vars[key]
    if (given !== undefined && given !== '') return given
    if (kind === '?') throw new Error(`compose: ${key}: ${rest}`)
    return rest
  })]))
}

const argument = (command: string[], name: string): string | undefined => command[command.indexOf(name) + 1]
const brokersOf = (compose: any): Array<[string, any]> => Object.entries(compose.services).filter(([name]) => name.startsWith('broker-')) as Array<[string, any]>

function checkBrokers (t: Test, compose: any, replicasPerMaster: number): void {
  const brokers = brokersOf(compose)
  t.equal(brokers.length, 2, 'two brokers')
  for (const [name, service] of brokers) {
    t.equal(service.environment.BROKER_STORE, 'redis', name)
    t.equal(service.environment.BROKER_REDIS_WAIT_REPLICAS, String(replicasPerMaster), `${name}: waits for every replica`)
    t.notOk('BROKER_REDIS_URL' in service.environment, `${name}: no standalone URL`)
    t.ok(service.volumes.includes('../config/production.yml:/app/config/application.yml:ro'), `${name}: the production config`)
    t.throws(() => interpolate(service.environment, {}), /HERMOD_CLIENT_KEY/, `${name}: refuses to start without the key`)
    t.same(service.healthcheck.test, ['CMD', 'node', 'dist/src/cli/main.js', 'healthcheck'])
  }
}

/** Two broker processes with the compose environment (`rewrite` maps it to the local topology): post on one, answer on the other. */
async function postAnswerCallback (t: Test, compose: any, rewrite: (env: Record<string, string>) => void): Promise<void> {
  const receiver = await startReceiver((_req, res) => { res.writeHead(200).end() })
  t.teardown(() => receiver.close())
  const key = randomBytes(32).toString('hex')
  const urls: string[] = []
  for (const [, service] of brokersOf(compose)) {
    const env = interpolate(service.environment, { HERMOD_CLIENT_KEY: key, HERMOD_CALLBACK_URL: `${receiver.url}/cb` })
    rewrite(env)
    env.SERVER_PORT = String(await freePort())
    const broker = await spawnBroker({ env, args: ['--config', PRODUCTION], startTimeoutMs: 40_000 })
    t.teardown(() => broker.stop('SIGKILL'))
    urls.push(broker.url)
  }
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => dispatcher.close())
  const accepted = await request(`${urls[0]}/hermod/rest/command/sign`, {
    method: 'POST', dispatcher, headers: { 'x-api-key': apiKeyHeader('prime', key), 'content-type': 'application/json' }, body: '{"signCommand":{"tbs":"x"}}'
  })
  t.equal(accepted.statusCode, 200, 'accepted on one instance')
  const { destinations: [d] } = await accepted.body.json() as any
  const answer = await request(`${urls[1]}/hermod/rest/ms/${d.bid}/${d.mid}`, {
    method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: '{"status":"OK","response":"sig"}'
  })
  t.equal(answer.statusCode, 200, 'answered on the other')
  await answer.body.dump()
  await waitFor(() => receiver.requests.length >= 1, 15_000, 'the callback')
  await sleep(1000)
  t.equal(receiver.requests.length, 1, 'one callback')
}

t.test('compose.cluster.yml: six cluster nodes with AOF and noeviction, a one-shot init, brokers seeded with every node', async (t) => {
  const nodes = Object.entries(cluster.services).filter(([name]) => /^redis-\d$/.test(name)) as Array<[string, any]>
  t.equal(nodes.length, 6)
  for (const [name, node] of nodes) {
    t.equal(argument(node.command, '--cluster-enabled'), 'yes', name)
    t.equal(argument(node.command, '--appendonly'), 'yes', name)
    t.equal(argument(node.command, '--maxmemory-policy'), 'noeviction', name)
  }
  const init = cluster.services['redis-cluster-init']
  t.match(init.command[0], /redis-cli --cluster create .* --cluster-replicas 1 --cluster-yes/)
  t.same(Object.keys(init.depends_on).sort(), nodes.map(([name]) => name).sort(), 'init waits for every node')
  checkBrokers(t, cluster, 1)
  for (const [name, service] of brokersOf(cluster)) {
    t.equal(service.environment.BROKER_REDIS_CLUSTER_NODES, nodes.map(([n]) => `${n}:6379`).join(','), `${name}: every node a seed`)
    t.same(service.depends_on, { 'redis-cluster-init': { condition: 'service_completed_successfully' } })
  }
})

t.test('the cluster topology without Docker', async (t) => {
  const command: string[] = cluster.services['redis-1'].command
  const extra = command.slice(1).filter((_arg, i, all) => all[i] !== '--cluster-config-file' && all[i - 1] !== '--cluster-config-file')
  const local = await startRedisCluster(t, { extraArgs: extra })
  await postAnswerCallback(t, cluster, (env) => { env.BROKER_REDIS_CLUSTER_NODES = local.seeds })
})

t.test('compose.sentinel.yml: a master and two replicas with AOF and noeviction, three sentinels with quorum 2', async (t) => {
  const data = ['redis-master', 'redis-replica-1', 'redis-replica-2'].map((name) => [name, sentinel.services[name]] as [string, any])
  for (const [name, node] of data) {
    t.equal(argument(node.command, '--appendonly'), 'yes', name)
    t.equal(argument(node.command, '--maxmemory-policy'), 'noeviction', name)
    if (name !== 'redis-master') t.same(node.command.slice(node.command.indexOf('--replicaof'), node.command.indexOf('--replicaof') + 3), ['--replicaof', 'redis-master', '6379'])
  }
  const sentinels = Object.keys(sentinel.services).filter((name) => name.startsWith('sentinel-'))
  t.equal(sentinels.length, 3)
  for (const name of sentinels) t.match(sentinel.services[name].command[0], /sentinel monitor hermod-master redis-master 6379 2/, name)
  checkBrokers(t, sentinel, 2)
  for (const [name, service] of brokersOf(sentinel)) {
    t.equal(service.environment.BROKER_REDIS_SENTINEL_MASTER, 'hermod-master', name)
    t.equal(service.environment.BROKER_REDIS_SENTINEL_NODES, sentinels.map((s) => `${s}:26379`).join(','), `${name}: every sentinel`)
  }
})

t.test('the Sentinel topology without Docker', async (t) => {
  const local = await startRedisSentinel(t, { appendonly: true })
  const master = sentinel.services['broker-1'].environment.BROKER_REDIS_SENTINEL_MASTER
  t.equal(local.masterName, master, 'the same master name')
  await postAnswerCallback(t, sentinel, (env) => { env.BROKER_REDIS_SENTINEL_NODES = local.sentinelNodes })
})
