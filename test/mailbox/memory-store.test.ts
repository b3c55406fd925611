// The store contract on the embedded (memory) driver.
import t from 'tap'
import { MemoryMailboxStore } from '../../src/mailbox/memory-store.js'
import type { CommandRecord } from '../../src/mailbox/types.js'
import { storeContract } from './store-contract.js'

storeContract(t, async () => {
  const store = new MemoryMailboxStore()
  return { store, peer: store, close: () => store.close() }
})

t.test('memory store: returns to empty once every command, named box and idempotency key expired (no leak per box name)', async (t) => {
  const store = new MemoryMailboxStore()
  t.teardown(() => store.close())
  const T0 = Date.UTC(2026, 0, 1, 12)
  const NAMES = 2_000
  const accept = async (i: number, to: string[], now: number): Promise<CommandRecord> => (await store.accept({
    type: 'sign',
    group: i % 2 === 0 ? 'acme' : 'other',
    clientId: 'prime',
    timeoutSeconds: 10,
    lifespanSeconds: 20 + (i % 3),
    to,
    payload: '{}',
    ...(i % 5 === 0 ? { idempotencyKey: `k${i}`, fingerprint: 'f' } : {})
  }, now)).command
  const named: CommandRecord[] = []
  for (let i = 0; i < NAMES; i++) {
    const command = await accept(i, i % 4 === 0 ? [`user-${i}`, '@tmp'] : [`user-${i}`], T0 + i)
    named.push(command)
    const d = command.destinations[0]!
    // Decided in every way a command can be: answered, rejected, cancelled, or left to time out.
    if (i % 4 === 1) await store.answer(d.bid, d.mid, { status: 'OK', response: '{"sig":"x"}' }, T0 + i)
    if (i % 4 === 2) await store.answer(d.bid, d.mid, { status: 'REJECTED', response: 'null' }, T0 + i)
    if (i % 4 === 3) await store.cancel(command.group, command.commandId, T0 + i)
  }
  // A few names used again while their box lives (its life is extended) and one after it expired (a new box).
  for (let i = 0; i < 10; i++) await accept(i, [`user-${i}`], T0 + 5_000 + i)
  const reused = await accept(0, ['user-0'], T0 + 60_000)
  t.not(reused.destinations[0]!.bid, named[0]!.destinations[0]!.bid, 'a name used after its box expired gets a new box')
  t.ok(store.sizes().namedBoxes >= NAMES, 'every name has its box while it lives')

  const end = T0 + 200_000
  while (await store.claimDue(end, 500) === 500) { /* times out the rest, then purges */ }
  for (let events = await store.readOutbox(1_000); events.length > 0; events = await store.readOutbox(1_000)) {
    await store.ackOutbox(events.map((e) => e.id))
  }
  t.same(store.sizes(), { commands: 0, boxes: 0, namedBoxes: 0, idempotency: 0, deadlines: 0, expiries: 0, outbox: 0 }, 'nothing is left')
  const d = named[5]!.destinations[0]!
  t.equal(await store.listBox(d.bid, d.token, end), null, 'an expired named box reads as unknown')
})
