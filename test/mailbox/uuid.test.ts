// randomUuid: the stores' flat version 4 UUIDs; isUuid: the one test of an id's form.
import t from 'tap'
import { plugoutUri } from '../../src/mailbox/links.js'
import { isUuid, randomUuid } from '../../src/mailbox/uuid.js'

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

t.test('isUuid: the lower-case 8-4-4-4-12 form the broker hands out, nothing else', async (t) => {
  for (let i = 0; i < 100; i++) t.ok(isUuid(randomUuid()))
  const id = randomUuid()
  for (const other of [id.toUpperCase(), `{${id}}`, id.replace(/-/g, ''), '-'.repeat(36), `${id}\n`, ` ${id}`, id.slice(1), `${id}0`, '']) {
    t.notOk(isUuid(other), JSON.stringify(other))
  }
})

t.test('plugout links leave a box id unescaped only when it is an id of that form', async (t) => {
  const id = randomUuid()
  t.equal(plugoutUri('https://h/b', id, 't'), `com.nexusgroup.plugout:///?url=https%3A%2F%2Fh%2Fb%2F${id}&token=t`)
  t.equal(plugoutUri('https://h/b', 'a&b', 't'), 'com.nexusgroup.plugout:///?url=https%3A%2F%2Fh%2Fb%2Fa%26b&token=t')
})
