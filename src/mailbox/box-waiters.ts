// Long-poll support: devices waiting on an empty box are woken when a message lands in it.
import type { MailboxStore } from './store.js'

/**
 * One long poll's interest in a box. It is registered before the box is listed, so a message that
 * lands while the listing runs is remembered and the next `next()` returns at once (no lost wake-up).
 */
export interface BoxWatch {
  /**
   * Resolves at once when the box saw activity since the watch began or the last `next()` resolved;
   * otherwise on activity, after `ms`, or when `signal` aborts, whichever is first.
   */
  next (ms: number, signal?: AbortSignal): Promise<void>
  /** Resolves once activity of the box reaches this watch (the store's watchBox); await it before the first listing. */
  ready (): Promise<void>
  /** Stops watching the box (call it when the request ends). */
  close (): void
}

/** Watches per box, woken by the store's box-activity announcements (from any instance). */
export class BoxWaiters {
  private readonly watching = new Map<string, Set<Watch>>()
  private readonly unsubscribe: () => void
  private waitingNow = 0

  constructor (private readonly store: MailboxStore) {
    this.unsubscribe = store.onBoxActivity((bid) => this.wake(bid))
  }

  /** Number of requests waiting right now (all boxes). */
  get size (): number { return this.waitingNow }

  /** Long polls of this process watching each box now (the dev console's peek). */
  watchedBoxes (): Map<string, number> {
    return new Map([...this.watching].map(([bid, set]) => [bid, set.size]))
  }

  /** Number of boxes watched right now (a watch lives from before the first listing until the request ends). */
  get boxes (): number { return this.watching.size }

  /** Starts watching `bid`: take the watch before listing the box, close it when the request ends. */
  watch (bid: string): BoxWatch {
    let set = this.watching.get(bid)
    if (set === undefined) {
      set = new Set()
      this.watching.set(bid, set)
    }
    const interest = this.store.watchBox?.(bid)
    const watch = new Watch((delta) => { this.waitingNow += delta }, () => {
      const current = this.watching.get(bid)
      current?.delete(watch)
      if (current?.size === 0) this.watching.delete(bid)
      void interest?.then((release) => release())
    }, interest)
    set.add(watch)
    return watch
  }

  /** Wakes every watch (used at shutdown so long polls answer at once). */
  wakeAll (): void {
    for (const bid of [...this.watching.keys()]) this.wake(bid)
  }

  close (): void {
    this.unsubscribe()
    this.wakeAll()
  }

  private wake (bid: string): void {
    const set = this.watching.get(bid)
    if (set === undefined) return
    for (const watch of [...set]) watch.fire()
  }
}

/** A BoxWatch: activity either resolves the pending `next()` or is remembered for the next one. */
class Watch implements BoxWatch {
  private seen = false
  private resolveNext: (() => void) | undefined

  constructor (
    private readonly count: (delta: number) => void,
    private readonly remove: () => void,
    private readonly interest: Promise<unknown> | undefined
  ) {}

  async ready (): Promise<void> { await this.interest }

  fire (): void {
    if (this.resolveNext !== undefined) this.resolveNext()
    else this.seen = true
  }

  async next (ms: number, signal?: AbortSignal): Promise<void> {
    if (this.seen || signal?.aborted === true) {
      this.seen = false
      return
    }
    this.count(1)
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        this.resolveNext = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
      this.resolveNext = done
    })
    this.count(-1)
  }

  close (): void {
    this.resolveNext?.()
    this.remove()
  }
}
