// accept-4's lean created reply ({3, bid, token, ...} of the named destinations only) and a @tmp destination's ids sent as
// 16 raw bytes: the record accept answers is the one stored, text ids for @tmp are refused, and a command the previous
// script stored (text ids, meta JSON reply: an instance not yet upgraded) is served by this store.
import t from 'tap'
import { PREVIOUS_SCRIPT, applyEdits } from '../../bench/accept-script-edits.js'
import { RedisKeys, encodeBoxRef } from '../../src/mailbox/keys.js'
import { acceptArgs, loadScript, scriptsDirectory, type ScriptArg, type SentDestination } from '../../src/mailbox/redis-scripts.js'
import type { AcceptRequest } from '../../src/mailbox/types.js'
import { randomUuid } from '../../src/mailbox/uuid.js'
import { T0, adminClient, freshPrefix, keysOf, request, storeFor } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })
const SHIPPED = loadScript(scriptsDirectory(), 'accept-4')

/** Runs accept-4 (or `text`) directly, as the store would (`expected`: live boxes' ids), with `args` possibly rewritten by `edit`. */
async function runAccept (
  admin: ReturnType<typeof adminClient>, prefix: string, req: AcceptRequest, commandId: string, sent: SentDestination[],
  options: { text?: string, edit?: (args: ScriptArg[]) => ScriptArg[], expected?: Map<string, string> } = {}
): Promise<unknown> {
  const keys = new RedisKeys(prefix)
  const g = req.group
  const names = [...new Set(req.to.filter((to) => to !== '@tmp'))]
  const scriptKeys = [
    keys.groupBase(g), keys.command(g, commandId), keys.deadlines(g), keys.command(g, commandId), keys.outbox(g), keys.outboxOrder(g),
    ...keys.groupIndexKeys(g),
    ...names.flatMap((name) => [keys.namedBox(g, name), keys.namedBoxPending(g, name)])
  ]
  const timing = { graceMs: 60_000, slackMs: 5_000, channel: keys.wakeChannel() }
  const args = acceptArgs(req, T0, commandId, sent, options.expected ?? new Map(), timing)
  return await admin.eval(options.text ?? SHIPPED, scriptKeys.length, ...scriptKeys, ...(options.edit?.(args) ?? args))
}

const fresh = (to: string): SentDestination => ({ to, bid: randomUuid(), mid: randomUuid(), token: randomUuid() })

t.test('the created reply holds the box id and token of each named destination, nothing for @tmp', async (t) => {
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  t.same(await runAccept(admin, prefix, request(), '1', [fresh('@tmp')]), [3], '@tmp only: the caller knows every id')
  const desk = fresh('desk')
  t.same(await runAccept(admin, prefix, request({ to: ['@tmp', 'desk'] }), '2', [fresh('@tmp'), desk]), [3, desk.bid, desk.token],
    'a new named box takes the candidate')
  const later = fresh('desk')
  const sent = [later, fresh('@tmp'), { ...later, mid: randomUuid() }]
  const reply = await runAccept(admin, prefix, request({ to: ['desk', '@tmp', 'desk'] }), '3', sent, { expected: new Map([['desk', desk.bid]]) })
  t.same(reply, [3, desk.bid, desk.token, desk.bid, desk.token], 'the live box keeps its id and token, once per destination')
})

t.test('text ids for a @tmp destination are refused before anything is written', async (t) => {
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  const d = fresh('@tmp')
  const asText = (args: ScriptArg[]): ScriptArg[] => [...args.slice(0, 16), d.bid, d.mid, d.token, ...args.slice(19)]
  await t.rejects(runAccept(admin, prefix, request(), '1', [d], { edit: asText }), /@tmp ids must be 16 raw bytes/)
  t.same(await keysOf(admin, prefix), [], 'no key written')
})

t.test('what accept answers is what was stored, and another instance serves it', async (t) => {
  const prefix = freshPrefix()
  const store = await storeFor(t, redis.url, prefix)
  const peer = await storeFor(t, redis.url, prefix)
  const a = (await store.accept(request({ to: ['@tmp', 'desk', '@tmp', 'desk'], externalId: 'order-17' }), T0)).command
  t.equal(new Set(a.destinations.map((d) => d.mid)).size, 4, 'a message id per destination')
  t.equal(a.destinations[1]!.bid, a.destinations[3]!.bid, 'one named box')
  t.same(await peer.getCommand('acme', a.commandId, T0), a, 'the stored record, read back through the meta the script packed')
  for (const d of a.destinations) {
    t.same((await peer.listBox(d.bid, d.token, T0 + 1))?.map((m) => m.mid).includes(d.mid), true, `${d.to}: listed by its box id and token`)
    const read = await peer.readMessage(d.bid, d.mid, T0 + 1)
    t.equal(read.kind === 'ok' ? read.message.externalId : read.kind, 'order-17', `${d.to}: read`)
  }
  const again = (await peer.accept(request({ to: ['desk'] }), T0 + 2)).command
  t.same(again.destinations.map((d) => [d.bid, d.token]), [[a.destinations[1]!.bid, a.destinations[1]!.token]], 'the live named box, from the reply')
  t.same(await store.getCommand('acme', again.commandId, T0 + 2), again)
})

t.test('a rolling upgrade: a command the previous script stored (text ids, meta JSON reply) is served and answered', async (t) => {
  const admin = adminClient(t, redis.url)
  const prefix = freshPrefix()
  const keys = new RedisKeys(prefix)
  const previous = applyEdits(SHIPPED, PREVIOUS_SCRIPT)
  const d = fresh('@tmp')
  const req = request()
  const asText = (args: ScriptArg[]): ScriptArg[] => [...args.slice(0, 16), d.bid, d.mid, d.token, ...args.slice(19)]
  const reply = await runAccept(admin, prefix, req, '77', [d], { text: previous, edit: asText }) as [number, string]
  t.equal(reply[0], 1, 'the previous created reply')
  t.same((JSON.parse(reply[1]) as { d: string[][] }).d, [['@tmp', d.bid, d.mid, d.token]])
  await admin.set(keys.boxIndex(d.bid), encodeBoxRef({ group: 'acme', kind: 'tmp', commandId: '77' }), 'PX', 65_000)
  const store = await storeFor(t, redis.url, prefix)
  const record = await store.getCommand('acme', '77', T0)
  t.same(record?.destinations, [{ to: '@tmp', bid: d.bid, mid: d.mid, token: d.token }], 'the same record bytes either way')
  t.same((await store.listBox(d.bid, d.token, T0 + 1))?.map((m) => m.mid), [d.mid])
  t.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '{"ok":true}' }, T0 + 2), { kind: 'ok', state: 'COMPLETED' })
})
