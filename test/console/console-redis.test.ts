// The console on the Redis store with two instances: a command posted on one shows on the other's console, and its answer on both.
import t from 'tap'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'
import { startDevBroker } from '../dev/helpers.js'
import { browserFor, example, openConsole, readEvents } from './helpers.js'

const browser = await browserFor(t)
if (browser !== undefined) {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const patch = { broker: { store: 'redis' as const, redis: { url: redis.url, prefix: freshPrefix(), options: {} } } }
  const a = await startDevBroker(t, patch)
  const b = await startDevBroker(t, patch)
  const onA = await openConsole(t, browser, a.base)
  const onB = await openConsole(t, browser, b.base, 390, 844)

  await t.test('posted on instance A, the command shows on B\'s console; approved on B\'s page, A\'s console shows it COMPLETED', async (tt) => {
    const accepted = await a.post('sign', example('sign', { externalId: 'order-redis-1' }))
    const rowOnB = onB.getByTestId(`row-${accepted.commandId}`)
    await rowOnB.waitFor()
    tt.match(await rowOnB.textContent(), /order-redis-1/)
    await onB.getByTestId(`open-${accepted.commandId}`).click()
    const detail = onB.getByTestId('detail')
    await detail.getByTestId('approve').click()
    await detail.getByTestId('send-answer').click()
    await detail.getByTestId('detail-state').filter({ hasText: 'COMPLETED' }).waitFor()
    await onA.getByTestId(`state-${accepted.commandId}`).filter({ hasText: 'COMPLETED' }).waitFor()
    // The callback is delivered by whichever instance's worker took it; both consoles' timelines read the shared log.
    await detail.getByTestId('timeline-callback').first().waitFor()
    await onA.getByTestId(`open-${accepted.commandId}`).click()
    await onA.getByTestId('detail').getByTestId('timeline-read').waitFor()
    await onA.getByTestId('detail').getByTestId('timeline-answered').waitFor()
    await onA.getByTestId('detail').getByTestId('timeline-callback').first().waitFor()
  })

  await t.test('the feed is one Redis stream: B\'s events resume after an id A handed out, in order', async (tt) => {
    // A fresh stream starts with `hello`, carrying the newest id.
    const [last] = await readEvents(`${a.base}/hermod/dev/api/events`, 1)
    tt.equal(last!.event, 'hello')
    tt.match(last!.id, /^[0-9]+-[0-9]+$/, 'a stream id')
    const first = await a.post('ping', { commandHeader: {} })
    const second = await b.post('ping', { commandHeader: {} })
    const events = await readEvents(`${b.base}/hermod/dev/api/events`, 2, { 'last-event-id': last!.id! })
    const accepted = events.filter((e) => e.event === 'accepted').map((e) => JSON.parse(e.data!).commandId)
    tt.ok(accepted.indexOf(first.commandId) >= 0, 'posted on A')
    tt.same(accepted, [first.commandId, second.commandId], 'both instances\' commands, in order')
  })

  await t.test('an api-only instance (no dev surface) still feeds the consoles of the others', async (tt) => {
    const api = await startDevBroker(tt, patch, { role: 'api' })
    tt.equal((await api.call('GET', '/hermod/console/')).status, 404, 'it serves no console')
    const accepted = await api.post('sign', example('sign', { externalId: 'via-api-role' }))
    await onA.getByTestId(`row-${accepted.commandId}`).waitFor()
  })
}
