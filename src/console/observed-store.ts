// The store as the console sees it: the same store, whose state changes are also appended to the console feed.
import type { Clock } from '../mailbox/clock.js'
import type { MailboxStore } from '../mailbox/store.js'
import type { ConsoleFeed, NewConsoleEvent } from './feed.js'

type Note = (event: Omit<NewConsoleEvent, 'at'>) => void

/**
 * A Proxy of `store` (so `instanceof` and `name` still answer for the real driver): after accept, cancel,
 * readMessage, answer and claimDue succeed, an event goes to the feed. The store's results are never
 * changed or delayed: the feed append runs after, and its failure is the feed's to log.
 */
export function observeStore (store: MailboxStore, feed: ConsoleFeed, clock: Clock): MailboxStore {
  const note: Note = (event) => { void feed.append({ at: new Date(clock.now()).toISOString(), ...event }) }
  const observed: Partial<MailboxStore> = {
    async accept (req, now) {
      const result = await store.accept(req, now)
      if (!result.replayed) note({ kind: 'accepted', commandId: result.command.commandId, state: result.command.state })
      return result
    },
    async cancel (group, commandId, now) {
      const result = await store.cancel(group, commandId, now)
      if (result.kind === 'ok') note({ kind: 'cancelled', commandId, state: 'CANCELLED' })
      return result
    },
    async readMessage (bid, mid, now) {
      const result = await store.readMessage(bid, mid, now)
      if (result.kind === 'ok') note({ kind: 'read', bid, mid, ...(result.message.commandId === undefined ? {} : { commandId: result.message.commandId }) })
      return result
    },
    async answer (bid, mid, answer, now) {
      const result = await store.answer(bid, mid, answer, now)
      if (result.kind === 'ok') note({ kind: 'answered', bid, mid, state: result.state })
      return result
    },
    async claimDue (now, limit) {
      const count = await store.claimDue(now, limit)
      if (count > 0) note({ kind: 'timeout', count })
      return count
    }
  }
  return new Proxy(store, {
    get (target, property) {
      const own = (observed as Record<PropertyKey, unknown>)[property]
      if (own !== undefined) return own
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
}
