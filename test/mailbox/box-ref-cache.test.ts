// BoxRefCache: the Redis store's bounded box id -> (group, kind) cache.
import t from 'tap'
import { BoxRefCache } from '../../src/mailbox/redis-connection.js'
import type { BoxRef } from '../../src/mailbox/keys.js'

const ref = (n: number): BoxRef => ({ group: 'acme', kind: 'tmp', commandId: String(n) })

t.test('keeps the recent entries, forgets old ones, and stays bounded', async (t) => {
  const cache = new BoxRefCache(100)
  for (let i = 0; i < 1_000; i++) cache.set(`b${i}`, ref(i))
  t.same(cache.get('b999'), ref(999), 'the newest entry is there')
  t.same(cache.get('b950'), ref(950), 'the last 50 (one generation) are there')
  t.equal(cache.get('b0'), undefined, 'old entries are gone')
  let kept = 0
  for (let i = 0; i < 1_000; i++) if (cache.get(`b${i}`) !== undefined) kept++
  t.ok(kept >= 50 && kept <= 100, `between max/2 and max entries are kept (${kept})`)
})

t.test('an entry read from the old generation survives the next turnover', async (t) => {
  const cache = new BoxRefCache(4) // generations of 2
  cache.set('a', ref(1))
  cache.set('b', ref(2))
  cache.set('c', ref(3)) // a, b become old
  t.same(cache.get('a'), ref(1), 'found in the old generation, and moved up')
  cache.set('d', ref(4)) // young (c, a) turns old; b is dropped
  t.same(cache.get('a'), ref(1))
  t.equal(cache.get('b'), undefined)
})
