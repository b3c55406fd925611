// The console feed on Redis: resumable by stream id, a gap reported only when trimming dropped newer entries, shared by two feeds.
import t from 'tap'
import { RedisConsoleFeed } from '../../src/console/redis-feed.js'
import type { ConsoleEvent } from '../../src/console/feed.js'
import { freshPrefix } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'

t.test('resume, gap and fan-out on one stream', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.destroy())
  const config = { url: redis.url, prefix: freshPrefix(), options: {} }
  const writer = new RedisConsoleFeed(config, undefined, 10)
  const reader = new RedisConsoleFeed(config, undefined, 10)
  t.teardown(async () => { await writer.close(); await reader.close() })
  const heard: ConsoleEvent[] = []
  reader.subscribe((event) => heard.push(event))
  await new Promise((resolve) => setTimeout(resolve, 300))

  await writer.append({ at: new Date(0).toISOString(), kind: 'accepted', commandId: '1' })
  await writer.append({ at: new Date(0).toISOString(), kind: 'answered', bid: 'b', mid: 'm' })
  const { events, gap } = await reader.since('0-0', 10)
  t.same(events.map((e) => e.kind), ['accepted', 'answered'])
  t.equal(gap, false, 'nothing was trimmed: no gap, even from the start')
  t.same((await reader.since(events[0]!.id, 10)).events.map((e) => e.kind), ['answered'], 'resumed after an id')
  for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(heard.map((e) => e.kind), ['accepted', 'answered'], 'the other feed\'s reader heard both')

  // Enough appends for MAXLEN ~ to drop whole stream nodes (100 entries each by default).
  for (let i = 0; i < 250; i++) await writer.append({ at: new Date(0).toISOString(), kind: 'accepted', commandId: String(i + 2) })
  const after = await reader.since(events[0]!.id, 1000)
  t.equal(after.gap, true, 'entries after the id were trimmed')
  const newest = after.events.at(-2)!
  t.equal((await reader.since(newest.id, 1000)).gap, false)
  t.equal((await reader.since(newest.id, 1000)).events.length, 1)
})
