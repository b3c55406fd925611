// A Cluster or Sentinel store without a reachable node answers StoreUnavailableError (a 503), never a raw ioredis error (a 500).
import t from 'tap'
import { ReplyError } from 'ioredis'
import { RedisMailboxStore } from '../../src/mailbox/redis-store.js'
import { toStoreError } from '../../src/mailbox/redis-replies.js'
import { StoreUnavailableError } from '../../src/mailbox/store.js'
import { freePort } from '../helpers/redis-server.js'
import { freshPrefix, request, T0 } from '../helpers/redis-store-fixtures.js'

t.test('cluster seeds nobody listens on: accept and reads fail as unavailable', async (t) => {
  const nodes = [{ host: '127.0.0.1', port: await freePort() }, { host: '127.0.0.1', port: await freePort() }]
  const store = await RedisMailboxStore.connect({ config: { url: 'redis://unused', prefix: freshPrefix(), options: {}, cluster: { nodes, options: {} } } }, 300)
  t.teardown(() => store.close())
  const accept = await store.accept(request(), T0).then(() => undefined, (err: unknown) => err)
  t.type(accept, StoreUnavailableError, `accept: ${(accept as Error).message}`)
  const status = await store.getCommand('acme', '1', T0).then(() => undefined, (err: unknown) => err)
  t.type(status, StoreUnavailableError, 'status query')
})

t.test('sentinels nobody listens on: accept fails as unavailable', async (t) => {
  const nodes = [{ host: '127.0.0.1', port: await freePort() }]
  const store = await RedisMailboxStore.connect({
    config: { url: 'redis://unused', prefix: freshPrefix(), options: {}, sentinel: { master: 'm', nodes, failoverDetector: false } }
  }, 300)
  t.teardown(() => store.close())
  const accept = await store.accept(request(), T0).then(() => undefined, (err: unknown) => err)
  t.type(accept, StoreUnavailableError, `accept: ${(accept as Error).message}`)
})

t.test('a redirect left over in a pipeline (a slot that changed hands mid-failover) is unavailable, not a bug', async (t) => {
  t.type(toStoreError(new ReplyError('MOVED 3999 127.0.0.1:7001')), StoreUnavailableError)
  t.type(toStoreError(new ReplyError('ASK 3999 127.0.0.1:7001')), StoreUnavailableError)
  t.notOk(toStoreError(new ReplyError('ERR Error running script')) instanceof StoreUnavailableError, 'a script error stays an error')
})
