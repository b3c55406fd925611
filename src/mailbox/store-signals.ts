// The listeners a store announces to: box activity (long-poll wake-ups) and new outbox events (the relay).

/** Both store drivers own one; a failing listener is reported to `onError` and never breaks the store. */
export class StoreSignals {
  private readonly boxListeners = new Set<(bid: string) => void>()
  private readonly outboxListeners = new Set<() => void>()

  constructor (private readonly onError: (err: unknown) => void = () => {}) {}

  onBoxActivity (listener: (bid: string) => void): () => void {
    this.boxListeners.add(listener)
    return () => { this.boxListeners.delete(listener) }
  }

  onOutbox (listener: () => void): () => void {
    this.outboxListeners.add(listener)
    return () => { this.outboxListeners.delete(listener) }
  }

  /** A message landed in box `bid`. */
  boxActivity (bid: string): void {
    for (const listener of this.boxListeners) {
      try { listener(bid) } catch (err) { this.onError(err) }
    }
  }

  /** Events were appended to the outbox. */
  outboxAppended (): void {
    for (const listener of this.outboxListeners) {
      try { listener() } catch (err) { this.onError(err) }
    }
  }

  clear (): void {
    this.boxListeners.clear()
    this.outboxListeners.clear()
  }
}
