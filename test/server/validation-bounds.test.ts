// Validation amplification: a body full of bad items gets a small 400, and a burst of them leaves memory bounded.
import t from 'tap'
import { MAX_ERROR_DETAILS } from '../../src/server/error-handler.js'
import { buildTestBroker } from '../helpers/broker.js'

const MiB = 1024 * 1024
/** About 900 KB: 300,000 empty strings in commandHeader.to (each one too short, and far too many). */
const HOSTILE = JSON.stringify({ commandHeader: { to: new Array(300_000).fill('') } })

t.test('300,000 bad items in commandHeader.to: a 400 under 4 KB, and 16 of them keep RSS bounded', async (t) => {
  const { broker, key } = await buildTestBroker(t)
  const send = async (): Promise<{ statusCode: number, body: string }> => await broker.app.inject({
    method: 'POST', url: '/hermod/rest/command/sign', headers: { 'x-api-key': key('prime'), 'content-type': 'application/json' }, payload: HOSTILE
  })
  const first = await send()
  t.equal(first.statusCode, 400)
  t.equal(JSON.parse(first.body).code, 'HERMOD_INVALID_COMMAND')
  t.ok(first.body.length < 4096, `the answer is small (${first.body.length} bytes)`)
  t.ok(JSON.parse(first.body).details.length <= MAX_ERROR_DETAILS)

  const before = process.memoryUsage().rss
  let peak = before
  const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
  t.teardown(() => clearInterval(sample))
  // 16 requests, 4 at a time: before the fix each one answered 47 MB and grew the process by hundreds of MiB.
  for (let wave = 0; wave < 4; wave++) {
    const answers = await Promise.all([send(), send(), send(), send()])
    for (const answer of answers) t.ok(answer.statusCode === 400 && answer.body.length < 4096, `wave ${wave}: 400, ${answer.body.length} bytes`)
  }
  clearInterval(sample)
  peak = Math.max(peak, process.memoryUsage().rss)
  const grown = (peak - before) / MiB
  t.comment(`RSS ${Math.round(before / MiB)} MiB before, peak ${Math.round(peak / MiB)} MiB during the burst (+${grown.toFixed(1)} MiB)`)
  t.ok(grown < 256, `RSS grew by less than 256 MiB during the burst (+${grown.toFixed(1)} MiB)`)
  const alive = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime') } })
  t.equal(alive.statusCode, 200, 'still serving')
})

t.test('every string and array the routes accept is bounded', async (t) => {
  const { broker, post, key } = await buildTestBroker(t)
  const long = (n: number): string => 'x'.repeat(n)
  for (const [what, header, pattern] of [
    ['a box name over 256 characters', { to: [long(257)] }, /commandHeader\/to\/0 must NOT have more than 256 characters/],
    ['more destinations than broker.commands.max-destinations', { to: Array.from({ length: 17 }, (_, i) => `box${i}`) }, /commandHeader\/to must NOT have more than 16 items/],
    ['an externalId over 1024 characters', { externalId: long(1025) }, /commandHeader\/externalId must NOT have more than 1024 characters/]
  ] as const) {
    const res = await post('sign', { commandHeader: header })
    t.equal(res.statusCode, 400, what)
    t.equal(res.json.code, 'HERMOD_INVALID_COMMAND', what)
    t.match(res.json.message, pattern, what)
  }
  const idempotency = await broker.app.inject({ method: 'POST', url: '/hermod/rest/command/ping', headers: { 'x-api-key': key('prime'), 'idempotency-key': long(256) } })
  t.equal(idempotency.statusCode, 400)
  t.equal(idempotency.json().code, 'HERMOD_INVALID_REQUEST', 'a header problem is an invalid request, not an invalid command')
  const accepted = (await post('sign', {})).json.destinations[0]
  for (const url of [`/hermod/rest/ms/${accepted.bid}?token=${long(65)}`, '/hermod/rest/util/generateclient/abc?group=' + long(65)]) {
    const res = await broker.app.inject({ url, headers: { 'x-hermod-token': long(65) } })
    t.equal(res.statusCode, 400, url.slice(0, 40))
    t.equal(res.json().code, 'HERMOD_INVALID_REQUEST')
  }
  const header = await broker.app.inject({ url: `/hermod/rest/ms/${accepted.bid}`, headers: { 'x-hermod-token': long(65) } })
  t.equal(header.statusCode, 400, 'X-Hermod-Token over 64 characters')
  t.equal(header.json().code, 'HERMOD_INVALID_REQUEST')
})
