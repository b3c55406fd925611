// The store contract: every MailboxStore driver must pass these, with time driven by the caller.
import type { Test } from 'tap'
import { IdempotencyConflictError, type MailboxStore } from '../../src/mailbox/store.js'
import type { AcceptRequest } from '../../src/mailbox/types.js'

export interface StoreFixture {
  store: MailboxStore
  /** A second handle on the same data (another broker instance); the memory driver returns `store`. */
  peer: MailboxStore
  close (): Promise<void>
}

const T0 = Date.UTC(2026, 0, 1, 12)

function request (over: Partial<AcceptRequest> = {}): AcceptRequest {
  return {
    type: 'sign',
    group: 'acme',
    clientId: 'prime',
    timeoutSeconds: 30,
    lifespanSeconds: 60,
    to: ['@tmp'],
    payload: '{"signCommand":{"params":{"tbs":"x"}}}',
    ...over
  }
}

/** Registers the contract tests under `t` for the driver `make` builds (a fresh, empty store each time). */
export function storeContract (t: Test, make: () => Promise<StoreFixture>): void {
  async function fixture (tt: Test): Promise<StoreFixture> {
    const f = await make()
    tt.teardown(() => f.close())
    return f
  }

  t.test('accept creates a command with one message per destination, in order', async (tt) => {
    const { store } = await fixture(tt)
    const { command, replayed } = await store.accept(request({ to: ['@tmp', 'john.doe', '@tmp'], externalId: 'order-17' }), T0)
    tt.equal(replayed, false)
    tt.match(command.commandId, /^[0-9]+$/)
    tt.equal(command.state, 'IN_PROGRESS')
    tt.equal(command.timeoutAt, T0 + 30_000)
    tt.equal(command.expiresAt, T0 + 60_000)
    tt.equal(command.externalId, 'order-17')
    tt.same(command.destinations.map((d) => d.to), ['@tmp', 'john.doe', '@tmp'])
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    for (const d of command.destinations) {
      tt.match(d.bid, uuid); tt.match(d.mid, uuid); tt.match(d.token, uuid)
    }
    tt.not(command.destinations[0]!.bid, command.destinations[2]!.bid, 'each @tmp is a fresh box')
    const second = await store.accept(request(), T0)
    tt.ok(BigInt(second.command.commandId) > BigInt(command.commandId), 'ids increase')
  })

  t.test('a device lists, reads and answers; the command completes once with one event', async (tt) => {
    const { store, peer } = await fixture(tt)
    const { command } = await store.accept(request({ externalId: 'x-1' }), T0)
    const d = command.destinations[0]!
    const listing = await peer.listBox(d.bid, d.token, T0 + 1)
    tt.same(listing, [{ mid: d.mid, type: 'sign', createdAt: T0, timeoutAt: T0 + 30_000 }])
    tt.equal(await peer.listBox(d.bid, 'b6f6c2a4-0000-4000-8000-000000000000', T0 + 1), null, 'wrong token reads as unknown')
    const read = await peer.readMessage(d.bid, d.mid, T0 + 2)
    tt.equal(read.kind, 'ok')
    if (read.kind === 'ok') {
      tt.equal(read.message.payload, '{"signCommand":{"params":{"tbs":"x"}}}')
      tt.equal(read.message.externalId, 'x-1')
      tt.equal(read.message.timeoutSeconds, 30)
      tt.equal(read.message.lifespanSeconds, 60)
      tt.equal(read.message.clientId, 'prime', 'the reader learns the client (its content provider)')
      tt.equal(read.message.commandId, command.commandId)
    }
    const answer = await peer.answer(d.bid, d.mid, { status: 'OK', response: '{"jws":"abc"}' }, T0 + 3)
    tt.same(answer, { kind: 'ok', state: 'COMPLETED' })
    tt.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, T0 + 4), { kind: 'decided', state: 'COMPLETED' })
    tt.same(await store.readMessage(d.bid, d.mid, T0 + 4), { kind: 'decided', state: 'COMPLETED' })
    tt.same(await store.listBox(d.bid, d.token, T0 + 4), [], 'the answered message left the box')
    const status = await store.getCommand('acme', command.commandId, T0 + 5)
    tt.equal(status?.state, 'COMPLETED')
    tt.equal(status?.finishedAt, T0 + 3)
    tt.equal(status?.response, '{"jws":"abc"}')
    tt.equal(status?.answeredBy, 0)
    const events = await store.readOutbox(10)
    tt.equal(events.length, 1)
    tt.match(events[0], {
      clientId: 'prime',
      group: 'acme',
      commandId: command.commandId,
      type: 'sign',
      state: 'COMPLETED',
      externalId: 'x-1',
      destination: { to: '@tmp', bid: d.bid, mid: d.mid },
      response: '{"jws":"abc"}',
      createdAt: T0,
      finishedAt: T0 + 3
    })
    await store.ackOutbox(events.map((e) => e.id))
    tt.same(await store.readOutbox(10), [], 'acknowledged events leave the outbox')
  })

  t.test('REJECTED answers, and the first answer of several destinations decides', async (tt) => {
    const { store } = await fixture(tt)
    const { command } = await store.accept(request({ to: ['alice', 'bob'] }), T0)
    const [a, b] = command.destinations
    tt.same(await store.answer(b!.bid, b!.mid, { status: 'REJECTED', response: 'null' }, T0 + 1), { kind: 'ok', state: 'REJECTED' })
    tt.same(await store.answer(a!.bid, a!.mid, { status: 'OK', response: 'null' }, T0 + 2), { kind: 'decided', state: 'REJECTED' })
    tt.same(await store.listBox(a!.bid, a!.token, T0 + 2), [], 'the other message is withdrawn')
    const events = await store.readOutbox(10)
    tt.equal(events.length, 1)
    tt.same(events[0]?.destination, { to: 'bob', bid: b!.bid, mid: b!.mid })
  })

  t.test('named boxes are shared within a group and separate across groups', async (tt) => {
    const { store } = await fixture(tt)
    const one = (await store.accept(request({ to: ['john.doe'], clientId: 'prime' }), T0)).command.destinations[0]!
    const two = (await store.accept(request({ to: ['john.doe'], clientId: 'hag' }), T0 + 1)).command.destinations[0]!
    const other = (await store.accept(request({ to: ['john.doe'], group: 'globex' }), T0 + 2)).command.destinations[0]!
    tt.equal(one.bid, two.bid, 'same name, same group: same box')
    tt.equal(one.token, two.token)
    tt.not(one.bid, other.bid, 'same name, other group: other box')
    const listing = await store.listBox(one.bid, one.token, T0 + 3)
    tt.same(listing?.map((m) => m.mid), [one.mid, two.mid], 'oldest first')
  })

  t.test('timeout: reads and answers after the deadline see 410, the sweeper claims once', async (tt) => {
    const { store, peer } = await fixture(tt)
    const { command } = await store.accept(request({ timeoutSeconds: 10, lifespanSeconds: 20 }), T0)
    const d = command.destinations[0]!
    tt.equal(await store.claimDue(T0 + 9_999, 100), 0, 'not before the deadline')
    tt.same(await store.readMessage(d.bid, d.mid, T0 + 10_000), { kind: 'timed-out' })
    tt.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, T0 + 10_001), { kind: 'timed-out' })
    tt.equal(await store.claimDue(T0 + 10_100, 100) + await peer.claimDue(T0 + 10_100, 100), 0, 'already timed out by the read')
    tt.same(await store.listBox(d.bid, d.token, T0 + 10_001), [])
    const status = await store.getCommand('acme', command.commandId, T0 + 15_000)
    tt.equal(status?.state, 'TIMEOUT')
    const events = await store.readOutbox(10)
    tt.same(events.map((e) => e.state), ['TIMEOUT'])
    tt.equal(events[0]?.finishedAt, T0 + 10_000)
  })

  t.test('the sweeper times out due commands exactly once across instances, in batches', async (tt) => {
    const { store, peer } = await fixture(tt)
    for (let i = 0; i < 25; i++) await store.accept(request({ timeoutSeconds: 5, lifespanSeconds: 5 }), T0 + i)
    await store.accept(request({ timeoutSeconds: 50, lifespanSeconds: 50 }), T0)
    const claims = await Promise.all([store.claimDue(T0 + 6_000, 10), peer.claimDue(T0 + 6_000, 10)])
    tt.equal(claims[0] + claims[1], 20, 'two batches of ten')
    const rest = await store.claimDue(T0 + 6_000, 100) + await peer.claimDue(T0 + 6_000, 100)
    tt.equal(rest, 5)
    tt.equal(await store.claimDue(T0 + 6_000, 100), 0)
    const events = await store.readOutbox(100)
    tt.equal(events.length, 25, 'one TIMEOUT event per command, also when timeout equals lifespan')
    tt.equal(new Set(events.map((e) => e.id)).size, 25)
    tt.ok(events.every((e) => e.state === 'TIMEOUT'))
  })

  t.test('timeout equal to lifespan: the TIMEOUT event is still written when nothing swept in time', async (tt) => {
    const { store } = await fixture(tt)
    const { command } = await store.accept(request({ timeoutSeconds: 30, lifespanSeconds: 30 }), T0)
    tt.equal(await store.getCommand('acme', command.commandId, T0 + 30_000), null, 'gone from history at the lifespan')
    tt.equal(await store.claimDue(T0 + 31_000, 100), 1, 'the sweeper still owes the TIMEOUT')
    const events = await store.readOutbox(10)
    tt.same(events.map((e) => [e.commandId, e.state]), [[command.commandId, 'TIMEOUT']])
  })

  t.test('timeout equal to lifespan, swept only once the lifespan has passed on the wall clock: one TIMEOUT event', async (tt) => {
    // Real time passes here: the Redis driver's records expire on Redis's clock, not the caller's.
    const { store, peer } = await fixture(tt)
    const { command } = await store.accept(request({ timeoutSeconds: 1, lifespanSeconds: 1 }), Date.now())
    const accepted = Date.now()
    while (Date.now() < accepted + 1_100) await new Promise((resolve) => setTimeout(resolve, 50))
    const now = Date.now()
    tt.equal(await store.getCommand('acme', command.commandId, now), null, 'past its lifespan')
    tt.equal(await store.claimDue(now, 100) + await peer.claimDue(now, 100), 1, 'the late sweep still times it out, once')
    tt.same((await store.readOutbox(10)).map((e) => [e.commandId, e.state, e.finishedAt]), [[command.commandId, 'TIMEOUT', now]])
  })

  t.test('lifespan: after it, status, list, read and answer all say not found', async (tt) => {
    const { store } = await fixture(tt)
    const { command } = await store.accept(request({ timeoutSeconds: 10, lifespanSeconds: 20 }), T0)
    const d = command.destinations[0]!
    await store.claimDue(T0 + 10_000, 100)
    const after = T0 + 20_000
    tt.equal(await store.getCommand('acme', command.commandId, after), null)
    tt.equal(await store.listBox(d.bid, d.token, after), null)
    tt.same(await store.readMessage(d.bid, d.mid, after), { kind: 'not-found' })
    tt.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, after), { kind: 'not-found' })
    tt.same(await store.cancel('acme', command.commandId, after), { kind: 'not-found' })
    await store.claimDue(after + 3_600_000 * 2, 100)
    tt.equal(await store.getCommand('acme', command.commandId, after + 3_600_000 * 2), null, 'purged')
  })

  t.test('cancel: once, with a CANCELLED event; another group sees nothing', async (tt) => {
    const { store } = await fixture(tt)
    const { command } = await store.accept(request(), T0)
    const d = command.destinations[0]!
    tt.same(await store.cancel('globex', command.commandId, T0 + 1), { kind: 'not-found' })
    tt.equal(await store.getCommand('globex', command.commandId, T0 + 1), null)
    const cancelled = await store.cancel('acme', command.commandId, T0 + 2)
    tt.equal(cancelled.kind, 'ok')
    tt.equal(cancelled.kind === 'ok' && cancelled.command.state, 'CANCELLED')
    const again = await store.cancel('acme', command.commandId, T0 + 3)
    tt.equal(again.kind, 'decided')
    tt.same(await store.readMessage(d.bid, d.mid, T0 + 3), { kind: 'decided', state: 'CANCELLED' })
    tt.same(await store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, T0 + 3), { kind: 'decided', state: 'CANCELLED' })
    tt.same((await store.readOutbox(10)).map((e) => e.state), ['CANCELLED'])
  })

  t.test('unknown ids and mismatched box/message pairs read as not found', async (tt) => {
    const { store } = await fixture(tt)
    const a = (await store.accept(request(), T0)).command.destinations[0]!
    const b = (await store.accept(request(), T0)).command.destinations[0]!
    tt.same(await store.readMessage(a.bid, b.mid, T0 + 1), { kind: 'not-found' }, 'a message is only found in its own box')
    tt.same(await store.answer(a.bid, b.mid, { status: 'OK', response: '1' }, T0 + 1), { kind: 'not-found' })
    tt.equal(await store.listBox('00000000-0000-4000-8000-000000000000', a.token, T0), null)
    tt.equal(await store.getCommand('acme', '999999999', T0), null)
  })

  t.test('racing answers and sweeps: one terminal state, one event per command', async (tt) => {
    const { store, peer } = await fixture(tt)
    const commands = []
    for (let i = 0; i < 50; i++) commands.push((await store.accept(request({ timeoutSeconds: 1, lifespanSeconds: 60 }), T0)).command)
    const at = T0 + 1_000 // exactly the deadline: every answer must lose to the timeout, and nothing doubles
    const results = await Promise.all(commands.flatMap((c) => {
      const d = c.destinations[0]!
      return [
        store.answer(d.bid, d.mid, { status: 'OK', response: '1' }, at - (c.commandId.endsWith('0') ? 1 : 0)),
        peer.answer(d.bid, d.mid, { status: 'REJECTED', response: '2' }, at),
        store.claimDue(at, 1000),
        peer.claimDue(at, 1000)
      ]
    }))
    tt.ok(results.length > 0)
    const events = await store.readOutbox(1000)
    tt.equal(events.length, 50, 'exactly one event per command')
    tt.equal(new Set(events.map((e) => e.commandId)).size, 50)
    for (const c of commands) {
      const status = await store.getCommand('acme', c.commandId, at + 1)
      const event = events.find((e) => e.commandId === c.commandId)
      tt.equal(status?.state, event?.state, `command ${c.commandId} state matches its event`)
    }
  })

  t.test('idempotency key: the same request twice is one command; another body is refused', async (tt) => {
    const { store, peer } = await fixture(tt)
    const first = await store.accept(request({ idempotencyKey: 'k-1', fingerprint: 'f1' }), T0)
    const again = await peer.accept(request({ idempotencyKey: 'k-1', fingerprint: 'f1' }), T0 + 5)
    tt.equal(again.replayed, true)
    tt.equal(again.command.commandId, first.command.commandId)
    tt.same(again.command.destinations, first.command.destinations)
    await tt.rejects(store.accept(request({ idempotencyKey: 'k-1', fingerprint: 'f2' }), T0 + 6), IdempotencyConflictError)
    const otherClient = await store.accept(request({ idempotencyKey: 'k-1', fingerprint: 'f1', clientId: 'hag' }), T0 + 7)
    tt.equal(otherClient.replayed, false, 'keys are per client')
    const afterLifespan = await store.accept(request({ idempotencyKey: 'k-1', fingerprint: 'f1' }), T0 + 60_000)
    tt.equal(afterLifespan.replayed, false, 'a key is remembered for the lifespan of its command')
  })

  t.test('box activity is announced on accept, to an instance watching the box', async (tt) => {
    const { store, peer } = await fixture(tt)
    const bid = (await store.accept(request({ to: ['carol'] }), T0)).command.destinations[0]!.bid
    // Drivers with a subscription per box's group (Redis in sharded mode) announce only what is watched.
    const release = await peer.watchBox?.(bid)
    tt.teardown(() => release?.())
    const seen: string[] = []
    const off = peer.onBoxActivity((b) => seen.push(b))
    tt.teardown(off)
    const { command } = await store.accept(request({ to: ['carol'] }), T0 + 1)
    tt.equal(command.destinations[0]!.bid, bid, 'the same box')
    const deadline = Date.now() + 2000
    while (!seen.includes(bid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    tt.ok(seen.includes(bid), 'announced')
    tt.ok(seen.every((b) => b === bid), 'only that box')
  })

  t.test('outbox events stay until acknowledged, and every instance reads them', async (tt) => {
    const { store, peer } = await fixture(tt)
    const { command } = await store.accept(request(), T0)
    await store.cancel('acme', command.commandId, T0 + 1)
    const first = await store.readOutbox(10)
    tt.same(first.map((e) => e.state), ['CANCELLED'])
    tt.same(await store.readOutbox(10), first, 'read again: not acknowledged yet')
    tt.same(await peer.readOutbox(10), first, 'another instance reads the same events (the queue dedupes by id)')
    await peer.ackOutbox(first.map((e) => e.id))
    tt.same(await store.readOutbox(10), [], 'an acknowledgement by any instance removes them')
    await store.ackOutbox(first.map((e) => e.id))
    tt.same(await peer.readOutbox(10), [], 'acknowledging twice is harmless')
  })

  t.test('an idempotent replay observes a due timeout and owes one TIMEOUT event', async (tt) => {
    const { store, peer } = await fixture(tt)
    const first = await store.accept(request({ timeoutSeconds: 10, idempotencyKey: 'k-2', fingerprint: 'f' }), T0)
    const again = await peer.accept(request({ timeoutSeconds: 10, idempotencyKey: 'k-2', fingerprint: 'f' }), T0 + 10_000)
    tt.equal(again.replayed, true)
    tt.equal(again.command.commandId, first.command.commandId)
    tt.equal(again.command.state, 'TIMEOUT')
    tt.equal(await store.claimDue(T0 + 10_000, 100), 0)
    tt.same((await store.readOutbox(10)).map((e) => e.state), ['TIMEOUT'])
  })

  t.test('a name given twice in one command is one box with two messages', async (tt) => {
    const { store } = await fixture(tt)
    const { command } = await store.accept(request({ to: ['dave', 'dave'] }), T0)
    const [a, b] = command.destinations
    tt.equal(a!.bid, b!.bid)
    tt.equal(a!.token, b!.token)
    tt.not(a!.mid, b!.mid)
    tt.same((await store.listBox(a!.bid, a!.token, T0 + 1))?.map((m) => m.mid), [a!.mid, b!.mid])
  })

  t.test('concurrent accepts to a new name on several instances share one box', async (tt) => {
    const { store, peer } = await fixture(tt)
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : peer).accept(request({ to: ['erin'] }), T0)))
    const bids = new Set(results.map((r) => r.command.destinations[0]!.bid))
    tt.equal(bids.size, 1, 'one box')
    const d = results[0]!.command.destinations[0]!
    const listing = await peer.listBox(d.bid, d.token, T0 + 1)
    tt.equal(listing?.length, 20, 'every message is in it')
  })

  t.test('a named box past its lifespan is replaced by a fresh one', async (tt) => {
    const { store, peer } = await fixture(tt)
    const old = (await store.accept(request({ to: ['frank'], timeoutSeconds: 5, lifespanSeconds: 10 }), T0)).command.destinations[0]!
    const fresh = (await peer.accept(request({ to: ['frank'] }), T0 + 10_000)).command.destinations[0]!
    tt.not(fresh.bid, old.bid)
    tt.not(fresh.token, old.token)
    tt.equal(await store.listBox(old.bid, old.token, T0 + 10_001), null, 'the old box is gone')
    tt.same((await store.listBox(fresh.bid, fresh.token, T0 + 10_001))?.map((m) => m.mid), [fresh.mid])
  })

  t.test('onOutbox is called when this instance appends an event', async (tt) => {
    const { store } = await fixture(tt)
    let calls = 0
    const off = store.onOutbox(() => { calls++ })
    tt.teardown(off)
    const { command } = await store.accept(request({ timeoutSeconds: 10 }), T0)
    tt.equal(calls, 0, 'accept owes no callback')
    const d = command.destinations[0]!
    await store.answer(d.bid, d.mid, { status: 'REJECTED', response: '{}' }, T0 + 1)
    tt.equal(calls, 1)
    const second = await store.accept(request({ timeoutSeconds: 10 }), T0)
    tt.equal((await store.getCommand('acme', second.command.commandId, T0 + 10_000))?.state, 'TIMEOUT')
    tt.equal(calls, 2, 'a timeout observed by a read counts too')
  })

  t.test('peekCommands (the dev listing) lists live commands newest first, filtered, and never changes state', async (tt) => {
    const { store, peer } = await fixture(tt)
    const first = (await store.accept(request({ externalId: 'a', to: ['john.doe'] }), T0)).command
    const second = (await store.accept(request({ type: 'authenticate', timeoutSeconds: 10, lifespanSeconds: 20, group: 'globex' }), T0 + 1)).command
    const all = await peer.peekCommands({ limit: 10 }, T0 + 11_000)
    tt.same(all.map((c) => c.commandId), [second.commandId, first.commandId], 'every group, newest first')
    tt.match(all[0], { state: 'TIMEOUT', type: 'authenticate', group: 'globex', payload: request().payload }, 'past its timeout it reads TIMEOUT')
    tt.equal(all[0]!.finishedAt, undefined, '... without being timed out')
    tt.match(all[1], { state: 'IN_PROGRESS', externalId: 'a', destinations: [{ to: 'john.doe', bid: first.destinations[0]!.bid, token: first.destinations[0]!.token }] })
    tt.same(await store.readOutbox(10), [], 'no event was written by the peek')
    tt.same((await peer.peekCommands({ limit: 10, group: 'acme' }, T0 + 11_000)).map((c) => c.commandId), [first.commandId])
    tt.same((await peer.peekCommands({ limit: 10, match: (c) => c.type === 'authenticate' }, T0 + 11_000)).map((c) => c.commandId), [second.commandId])
    tt.same((await peer.peekCommands({ limit: 1 }, T0 + 11_000)).length, 1)
    tt.same((await peer.peekCommands({ limit: 10 }, T0 + 21_000)).map((c) => c.commandId), [first.commandId], 'past its lifespan a command is not listed')
    const d = first.destinations[0]!
    await peer.answer(d.bid, d.mid, { status: 'OK', response: '{"jws":"abc"}' }, T0 + 2)
    tt.match((await store.peekCommands({ limit: 10, group: 'acme' }, T0 + 3))[0], { state: 'COMPLETED', response: '{"jws":"abc"}', answeredBy: 0 })
  })
}
