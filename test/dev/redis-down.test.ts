// The dev surface on the Redis store with Redis away: the broker still starts, and the dev API answers 503, never hangs or 500s.
import t from 'tap'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'
import { freePort } from '../helpers/redis-server.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'

t.test('with Redis down at start the dev delivery log does not hold up start-up; its routes answer 503 HERMOD_STORE_UNAVAILABLE', async (t) => {
  const port = await freePort()
  const config = testConfig({ broker: { store: 'redis', redis: { url: `redis://127.0.0.1:${port}`, prefix: freshPrefix(), options: {} }, dev: { enabled: true } } })
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(resolve, 30_000, 'late') })
  const built = await Promise.race([createBroker(config), late])
  clearTimeout(timer)
  if (built === 'late') return t.fail('createBroker did not resolve within 30 s')
  t.teardown(() => built.close())
  await built.app.ready()
  for (const url of ['/hermod/dev/api/callbacks', '/hermod/dev/api/callbacks/wait?commandId=1&timeout=1', '/hermod/dev/api/commands']) {
    const res = await built.app.inject({ url })
    t.equal(res.statusCode, 503, url)
    t.equal(res.json().code, 'HERMOD_STORE_UNAVAILABLE', url)
  }
})
