// On the Redis store, two instances: post on one, answer on the other, wait on callbacks/wait on both;
// the shared delivery log; the listing.
import t from 'tap'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'
import { startDevBroker } from './helpers.js'

t.test('callbacks/wait and the delivery log work across instances on Redis; listing peeks without changing state', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const patch = { broker: { store: 'redis' as const, redis: { url: redis.url, prefix: freshPrefix(), options: {} }, dev: { deliveryLogSize: 5 } } }
  const a = await startDevBroker(t, patch)
  const b = await startDevBroker(t, patch)

  const accepted = await a.post('sign', { commandHeader: { timeout: 60, externalId: 'order-redis' }, signCommand: { params: { tbs: 'VGVzdA==' } } })
  const waitOnA = a.call('GET', '/hermod/dev/api/callbacks/wait?externalId=order-redis&until=delivered&timeout=60')
  t.equal(await b.answer(accepted), 200, 'answered through the device API of the other instance')
  const waitOnB = await b.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&state=COMPLETED&until=delivered&timeout=60`)
  const fromA = await waitOnA
  for (const [name, res] of [['a', fromA], ['b', waitOnB]] as const) {
    t.equal(res.status, 200, `instance ${name}`)
    t.match(res.json, { commandId: accepted.commandId, state: 'COMPLETED', outcome: 'delivered', status: 200 })
  }
  t.equal((await a.call('GET', '/hermod/dev/api/callbacks/wait?commandId=424242&timeout=1')).status, 408)

  // The log is bounded: six more attempts leave five entries.
  for (let i = 0; i < 6; i++) {
    const ping = await b.post('ping', { commandHeader: { externalId: `p${i}` } })
    await a.answer(ping)
    t.equal((await a.call('GET', `/hermod/dev/api/callbacks/wait?externalId=p${i}&timeout=60`)).status, 200)
  }
  const log = (await b.call('GET', '/hermod/dev/api/callbacks?limit=100')).json.deliveries
  t.equal(log.length, 5, 'capped at broker.dev.delivery-log-size')
  t.equal(log[0].externalId, 'p5', 'newest first')

  const pending = await a.post('authenticate', { commandHeader: { timeout: 1, lifespan: 60, externalId: 'will-time-out', to: ['john.doe'] } }, 'hag')
  const listed = (await b.call('GET', '/hermod/dev/api/commands?q=client:hag%20type:auth')).json.commands
  t.same(listed.map((c: any) => c.commandId), [pending.commandId])
  t.match(listed[0], { state: 'IN_PROGRESS', destinations: [{ to: 'john.doe', bid: pending.destinations[0].bid }] })
  const peek = (await b.call('GET', `/hermod/dev/api/commands/${accepted.commandId}`)).json
  t.equal(peek.payload, undefined, 'the payload is dropped once decided')
  t.match(peek, { state: 'COMPLETED', response: { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' } })
  const boxes = (await a.call('GET', '/hermod/dev/api/boxes?q=box:john.doe')).json.boxes
  t.match(boxes, [{ to: 'john.doe', group: 'acme', messages: [{ commandId: pending.commandId }] }])
  const timedOut = await a.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${pending.commandId}&state=TIMEOUT&timeout=60`)
  t.equal(timedOut.status, 200, 'the sweeper\'s TIMEOUT callback is in the log too')
  // A retried attempt is logged with its next retry (BullMQ reports the schedule), then the delivery.
  for (const instance of [a, b]) await instance.call('PUT', '/hermod/dev/api/sink/faults', { status: 503 })
  const retried = await a.post('sign', { commandHeader: { externalId: 'retried' } })
  await b.answer(retried)
  const failed = await b.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${retried.commandId}&timeout=60`)
  t.match(failed.json, { outcome: 'retry', status: 503, attempt: 1 })
  t.ok(Date.parse(failed.json.nextRetryAt) >= Date.parse(failed.json.at), 'the next retry is logged')
  for (const instance of [a, b]) await instance.call('PUT', '/hermod/dev/api/sink/faults', {})
  t.match((await a.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${retried.commandId}&until=delivered&timeout=60`)).json, { outcome: 'delivered' })
  t.equal((await a.call('POST', '/hermod/dev/api/clock/advance', { ms: 1000 })).json.code, 'HERMOD_DEV_STORE_UNSUPPORTED', 'no clock on Redis')
  t.equal((await a.call('POST', '/hermod/dev/api/reset')).status, 409, 'no reset on Redis')
})
