// randomUuid: the stores' flat version 4 UUIDs.
import t from 'tap'
import { randomUuid } from '../../src/mailbox/uuid.js'

t.test('version 4, variant 10, lower-case hex in 8-4-4-4-12, never repeated', async (t) => {
  const seen = new Set<string>()
  let bad = 0
  for (let i = 0; i < 100_000; i++) {
    const id = randomUuid()
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) bad++
    seen.add(id)
  }
  t.equal(bad, 0)
  t.equal(seen.size, 100_000)
})

t.test('every hex digit position varies (the bytes are random, not a counter)', async (t) => {
  const ids = Array.from({ length: 2_000 }, () => randomUuid())
  for (let position = 0; position < 36; position++) {
    if ([8, 13, 14, 18, 23].includes(position)) continue // dashes, the version digit
    const values = new Set(ids.map((id) => id[position]))
    t.ok(values.size >= (position === 19 ? 4 : 12), `position ${position} takes ${values.size} values`)
  }
})
