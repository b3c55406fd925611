// --role api / worker: an api-only instance queues the callbacks of what it decides itself; a worker delivers them.
import t from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker, type Broker } from '../../src/server/broker.js'
import { startReceiver, waitFor } from '../callbacks/helpers.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { startRedis } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

t.test('an api-only instance moves its own outbox into the queue; a worker instance delivers', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const received: string[] = []
  const receiver = await startReceiver((req, res) => {
    received.push(JSON.parse(req.body).state as string)
    res.writeHead(200).end()
  })
  t.teardown(() => receiver.close())
  const config = testConfig({
    allowedClients: testClients(`${receiver.url}/cb`),
    broker: { store: 'redis', redis: { url: redis.url, prefix: freshPrefix(), options: {} } }
  })
  const start = async (role: 'api' | 'worker'): Promise<Broker> => {
    const broker = await createBroker(config, { role })
    t.teardown(() => broker.close())
    broker.start()
    await broker.app.ready()
    return broker
  }
  const api = await start('api')
  const key = apiKeyHeader('prime', KEYS.prime)
  const accepted = (await api.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader: {} } })).json()
  const d = accepted.destinations[0]
  const answered = await api.app.inject({ method: 'POST', url: `/hermod/rest/ms/${d.bid}/${d.mid}`, payload: { status: 'OK', response: { signature: 'c2ln' } } })
  t.equal(answered.statusCode, 200)

  for (const deadline = Date.now() + 5_000; (await api.context.queue.stats()).waiting !== 1;) {
    if (Date.now() > deadline) {
      t.fail('the event never reached the queue')
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.same(await api.context.store.readOutbox(10), [], 'the api instance queued the event itself (no worker runs yet)')
  t.same(received, [], "and delivered nothing: delivery is the workers' job")

  await start('worker')
  await waitFor(() => received.length === 1, 10_000)
  t.same(received, ['COMPLETED'], 'a worker instance delivers it')
})

t.test('a worker instance serves health and metrics only: the API, the device routes and the docs are 404', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const config = testConfig({ broker: { store: 'redis', devSink: true, redis: { url: redis.url, prefix: freshPrefix(), options: {} } } })
  const worker = await createBroker(config, { role: 'worker' })
  t.teardown(() => worker.close())
  worker.start()
  await worker.app.ready()
  const ready = async (): Promise<boolean> => (await worker.app.inject({ url: '/hermod/actuator/health/readiness' })).statusCode === 200
  for (const deadline = Date.now() + 10_000; !await ready() && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (const url of ['/hermod/actuator/health', '/hermod/actuator/health/liveness', '/hermod/actuator/health/readiness', '/hermod/actuator/prometheus']) {
    t.equal((await worker.app.inject({ url })).statusCode, 200, url)
  }
  const key = apiKeyHeader('prime', KEYS.prime)
  const post = await worker.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader: {} } })
  t.equal(post.statusCode, 404, 'no accept on a worker')
  t.equal(post.json().code, 'HERMOD_NOT_FOUND')
  for (const url of ['/hermod/rest/command/1', '/hermod/rest/ms/5f0c6a1e-2b7c-4c1a-9d3e-8f1a2b3c4d5e', '/hermod/rest/util/generateclient/x', '/hermod/admin/callbacks/dead-letters', '/hermod/dev/callbacks', '/hermod/v3/api-docs', '/hermod/swagger-ui']) {
    const res = await worker.app.inject({ url, headers: { 'x-api-key': key } })
    t.equal(res.statusCode, 404, url)
  }
  const api = await createBroker(config, { role: 'api' })
  t.teardown(() => api.close())
  await api.app.ready()
  t.equal((await api.app.inject({ method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key }, payload: { commandHeader: {} } })).statusCode, 200, 'an api instance serves the API')
})
