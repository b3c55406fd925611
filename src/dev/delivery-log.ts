// The dev delivery log: every callback attempt the broker made, bounded, newest first (memory driver and the shared types).
import type { TerminalState } from '../mailbox/types.js'

/** One callback attempt as the dev API shows it. Authorization is masked; the URL has no userinfo or query. */
export interface DeliveryLogEntry {
  /** When the attempt started (ISO 8601). */
  at: string
  eventId: string
  commandId: string
  clientId: string
  commandType: string
  state: TerminalState
  externalId?: string
  attempt: number
  url: string
  /** The headers sent, `authorization` masked; absent when the request could not be built. */
  headers?: Record<string, string>
  /** The body sent (cut at BODY_KEPT characters, then `bodyTruncated`). */
  body?: string
  bodyTruncated?: boolean
  /** `delivered`, `retry` (another attempt follows unless the schedule is exhausted) or `give-up`. */
  outcome: 'delivered' | 'retry' | 'give-up'
  status?: number
  durationMs: number
  /** Why it failed (never a credential). */
  error?: string
  /** When the queue scheduled the next attempt (ISO 8601); absent when none follows. */
  nextRetryAt?: string
}

/** What a reader asks the log for; every given field must match. */
export interface DeliveryQuery {
  commandId?: string
  externalId?: string
  /** Terminal state of the callback (COMPLETED, REJECTED, TIMEOUT, CANCELLED). */
  state?: TerminalState
  /** Only attempts that delivered. */
  deliveredOnly?: boolean
}

/** Where delivery log entries live: in this process, or in Redis for every instance. */
export interface DeliveryLog {
  append (entry: DeliveryLogEntry): Promise<void>
  /** Up to `limit` entries matching `query`, newest first. */
  list (query: DeliveryQuery, limit: number): Promise<DeliveryLogEntry[]>
  /** Calls `listener` for every entry appended (on any instance, for the Redis log). Returns an unsubscribe. */
  onAppend (listener: (entry: DeliveryLogEntry) => void): () => void
  clear (): Promise<void>
  close (): Promise<void>
}

/** Characters of a callback body the log keeps. */
export const BODY_KEPT = 65_536

/** Whether an entry answers a query. */
export function matchesDelivery (entry: DeliveryLogEntry, query: DeliveryQuery): boolean {
  return (query.commandId === undefined || entry.commandId === query.commandId) &&
    (query.externalId === undefined || entry.externalId === query.externalId) &&
    (query.state === undefined || entry.state === query.state) &&
    (query.deliveredOnly !== true || entry.outcome === 'delivered')
}

/** Listeners of appended entries; a throwing listener does not stop the others. */
export class AppendListeners {
  private readonly listeners = new Set<(entry: DeliveryLogEntry) => void>()

  add (listener: (entry: DeliveryLogEntry) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  emit (entry: DeliveryLogEntry): void {
    for (const listener of this.listeners) {
      try { listener(entry) } catch {}
    }
  }

  clear (): void { this.listeners.clear() }
}

/** The embedded store's log: a ring buffer of the last `size` attempts in this process. */
export class MemoryDeliveryLog implements DeliveryLog {
  private readonly entries: Array<DeliveryLogEntry | undefined>
  private next = 0
  private readonly listeners = new AppendListeners()

  constructor (private readonly size: number) {
    this.entries = new Array<DeliveryLogEntry | undefined>(Math.max(1, size))
  }

  async append (entry: DeliveryLogEntry): Promise<void> {
    this.entries[this.next] = entry
    this.next = (this.next + 1) % this.entries.length
    this.listeners.emit(entry)
  }

  async list (query: DeliveryQuery, limit: number): Promise<DeliveryLogEntry[]> {
    const found: DeliveryLogEntry[] = []
    for (let i = 1; i <= this.entries.length && found.length < limit; i++) {
      const entry = this.entries[(this.next - i + this.entries.length) % this.entries.length]
      if (entry === undefined) break
      if (matchesDelivery(entry, query)) found.push(entry)
    }
    return found
  }

  onAppend (listener: (entry: DeliveryLogEntry) => void): () => void {
    return this.listeners.add(listener)
  }

  async clear (): Promise<void> {
    this.entries.fill(undefined)
    this.next = 0
  }

  async close (): Promise<void> {
    this.listeners.clear()
  }
}
