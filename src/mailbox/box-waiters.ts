// Long-poll support: devices waiting on an empty box are woken when a message lands in it.
import type { MailboxStore } from './store.js'

/** Waiters per box, woken by the store's box-activity announcements (from any instance). */
export class BoxWaiters {
  private readonly waiting = new Map<string, Set<() => void>>()
  private readonly unsubscribe: () => void

  constructor (store: MailboxStore) {
    this.unsubscribe = store.onBoxActivity((bid) => this.wake(bid))
  }

  /** Number of requests waiting right now (all boxes). */
  get size (): number {
    let n = 0
    for (const set of this.waiting.values()) n += set.size
    return n
  }

  /** Resolves when `bid` sees activity, after `ms`, or when `signal` aborts, whichever is first. */
  wait (bid: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(bid)
      if (set === undefined) {
        set = new Set()
        this.waiting.set(bid, set)
      }
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        const current = this.waiting.get(bid)
        current?.delete(done)
        if (current?.size === 0) this.waiting.delete(bid)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
      set.add(done)
    })
  }

  /** Wakes every waiter (used at shutdown so long polls answer at once). */
  wakeAll (): void {
    for (const bid of [...this.waiting.keys()]) this.wake(bid)
  }

  close (): void {
    this.unsubscribe()
    this.wakeAll()
  }

  private wake (bid: string): void {
    const set = this.waiting.get(bid)
    if (set === undefined) return
    for (const done of [...set]) done()
  }
}
