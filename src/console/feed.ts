// The console's event feed: what happened to commands (accepted, read, answered, cancelled, timed out, each callback), resumable by id.

/** One event of the feed; `id` is assigned by the feed (a sequence number, or a Redis stream id). */
export interface ConsoleEvent {
  id: string
  /** When it happened on the broker's clock (ISO 8601). */
  at: string
  kind: 'accepted' | 'read' | 'answered' | 'cancelled' | 'timeout' | 'callback' | 'clock' | 'reset'
  commandId?: string
  bid?: string
  mid?: string
  state?: string
  /** `timeout`: how many commands the sweep timed out. */
  count?: number
  /** `callback`: the attempt number, its outcome and status. */
  attempt?: number
  outcome?: string
  status?: number
}

/** An event before the feed gave it an id. */
export type NewConsoleEvent = Omit<ConsoleEvent, 'id'>

/** Where console events live: this process (memory store) or a capped Redis stream every instance reads. */
export interface ConsoleFeed {
  append (event: NewConsoleEvent): Promise<void>
  /** Events after `id` (all kept ones for undefined), oldest first; `gap` when events after `id` were already dropped. */
  since (id: string | undefined, limit: number): Promise<{ events: ConsoleEvent[], gap: boolean }>
  /** Calls `listener` for every event appended (by any instance, for the Redis feed). Returns an unsubscribe. */
  subscribe (listener: (event: ConsoleEvent) => void): () => void
  close (): Promise<void>
}

/** Events a feed keeps. */
export const FEED_SIZE = 5000

/** Orders feed ids: `n` (memory) or `ms-seq` (Redis stream); negative when a is older. */
export function compareFeedIds (a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am === bm ? as - bs : am - bm
}

/** The embedded store's feed: a ring of the last FEED_SIZE events of this process. */
export class MemoryConsoleFeed implements ConsoleFeed {
  private readonly events: ConsoleEvent[] = []
  private next = 1
  private readonly listeners = new Set<(event: ConsoleEvent) => void>()

  constructor (private readonly size = FEED_SIZE) {}

  async append (event: NewConsoleEvent): Promise<void> {
    const stored = { id: String(this.next++), ...event }
    this.events.push(stored)
    if (this.events.length > this.size) this.events.splice(0, this.events.length - this.size)
    for (const listener of this.listeners) {
      try { listener(stored) } catch {}
    }
  }

  async since (id: string | undefined, limit: number): Promise<{ events: ConsoleEvent[], gap: boolean }> {
    const after = id === undefined ? 0 : Number(id)
    const first = this.events[0]
    const gap = id !== undefined && first !== undefined && Number.isFinite(after) && after + 1 < Number(first.id)
    const found = this.events.filter((event) => Number(event.id) > after)
    return { events: found.slice(-limit), gap: gap || found.length > limit }
  }

  subscribe (listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.listeners.clear()
  }
}
