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

/** The embedded store's feed: a ring of the last `size` events of this process (an append is O(1)). */
export class MemoryConsoleFeed implements ConsoleFeed {
  private readonly ring: Array<ConsoleEvent | undefined>
  /** The id the next event gets; ids are 1, 2, 3, … and event `n` sits at `(n - 1) % size`. */
  private next = 1
  private readonly listeners = new Set<(event: ConsoleEvent) => void>()

  constructor (private readonly size = FEED_SIZE) {
    this.ring = new Array<ConsoleEvent | undefined>(Math.max(1, size))
  }

  async append (event: NewConsoleEvent): Promise<void> {
    const stored = { id: String(this.next), ...event }
    this.ring[(this.next - 1) % this.ring.length] = stored
    this.next++
    for (const listener of this.listeners) {
      try { listener(stored) } catch {}
    }
  }

  async since (id: string | undefined, limit: number): Promise<{ events: ConsoleEvent[], gap: boolean }> {
    const oldest = Math.max(1, this.next - this.ring.length)
    const after = id === undefined ? 0 : Number(id)
    const from = Math.max(oldest, Number.isFinite(after) ? after + 1 : oldest, this.next - limit)
    const events: ConsoleEvent[] = []
    for (let n = from; n < this.next; n++) events.push(this.ring[(n - 1) % this.ring.length]!)
    const gap = id !== undefined && Number.isFinite(after) && (after + 1 < oldest || this.next - (after + 1) > limit)
    return { events, gap }
  }

  subscribe (listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.listeners.clear()
  }
}
