// The embedded callback queue's memory bounds: event sizes, the bounded dead-letter list, a throttled warning.
import type { Logger } from 'pino'
import type { CallbackConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import type { DeadLetter } from './queue.js'

/** Default of `broker.callbacks.queue-max-events`: callbacks held (waiting, delayed, in flight). */
export const DEFAULT_QUEUE_MAX_EVENTS = 20_000
/** Default of `broker.callbacks.queue-max-bytes`: 64 MiB of callbacks held; the dead letters get the same budget. */
export const DEFAULT_QUEUE_MAX_BYTES = 64 * 1024 * 1024
/** The reason of a callback dead-lettered because the queue was full (no attempt was made). */
export const QUEUE_FULL_REASON = 'callback queue full (no attempt made)'
/** Warnings about a full queue or dropped dead letters: at most one line per window. */
export const BOUNDS_LOG_INTERVAL_MS = 10_000

/** What a held event costs besides its text: the event object, the queue's entry, map and list slots. */
const EVENT_OVERHEAD_BYTES = 512

/** The queue's limits as numbers (config values or the defaults). */
export interface QueueLimits {
  maxEvents: number
  maxBytes: number
  deadLetterMax: number
}

/** The limits `config` sets, defaults filled in. */
export function queueLimits (config: Pick<CallbackConfig, 'queueMaxEvents' | 'queueMaxBytes' | 'deadLetterMax'>): QueueLimits {
  return {
    maxEvents: Math.max(1, config.queueMaxEvents ?? DEFAULT_QUEUE_MAX_EVENTS),
    maxBytes: Math.max(1, config.queueMaxBytes ?? DEFAULT_QUEUE_MAX_BYTES),
    deadLetterMax: Math.max(1, config.deadLetterMax)
  }
}

/**
 * An estimate of the memory one held event takes: its text fields (the device's response, mostly;
 * JSON text is one byte per character in V8) plus a fixed overhead.
 */
export function eventBytes (event: CallbackEvent): number {
  const destination = event.destination
  return EVENT_OVERHEAD_BYTES + event.id.length + event.clientId.length + event.group.length + event.commandId.length +
    (event.externalId?.length ?? 0) + (event.response?.length ?? 0) +
    (destination === undefined ? 0 : destination.to.length + destination.bid.length + destination.mid.length)
}

/**
 * A warning that would otherwise be logged once per event: the first occurrence is logged at once,
 * later ones within `intervalMs` are counted and reported (`suppressed`) with the next line after it.
 */
export class ThrottledWarning {
  private lastAt = -Infinity
  private suppressed = 0

  constructor (
    private readonly logger: Logger | undefined,
    private readonly message: string,
    private readonly intervalMs = BOUNDS_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now
  ) {}

  /** One occurrence; `fields` describe it (never a secret). */
  note (fields: Record<string, unknown>): void {
    const now = this.now()
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++
      return
    }
    this.logger?.warn({ ...fields, suppressed: this.suppressed, throttleMs: this.intervalMs }, this.message)
    this.lastAt = now
    this.suppressed = 0
  }
}

/** Dead letters by event id, oldest first, bounded by count (dead-letter-max) and by bytes (queue-max-bytes). */
export class DeadLetterList {
  private readonly letters = new Map<string, { letter: DeadLetter, bytes: number }>()
  private total = 0
  private readonly dropped: ThrottledWarning

  constructor (private readonly limits: QueueLimits, logger?: Logger, now?: () => number) {
    this.dropped = new ThrottledWarning(logger, 'oldest dead letters dropped (dead-letter-max or queue-max-bytes reached)', BOUNDS_LOG_INTERVAL_MS, now)
  }

  get size (): number { return this.letters.size }
  get bytes (): number { return this.total }

  has (eventId: string): boolean { return this.letters.has(eventId) }
  get (eventId: string): DeadLetter | undefined { return this.letters.get(eventId)?.letter }

  /** Adds a dead letter (the newest), dropping the oldest past either bound; the newest is always kept. */
  add (letter: DeadLetter): void {
    const bytes = eventBytes(letter.event)
    this.delete(letter.event.id)
    this.letters.set(letter.event.id, { letter, bytes })
    this.total += bytes
    while (this.letters.size > 1 && (this.letters.size > this.limits.deadLetterMax || this.total > this.limits.maxBytes)) {
      const oldest = this.letters.keys().next()
      if (oldest.done === true) break
      this.delete(oldest.value)
      this.dropped.note({ eventId: oldest.value, deadLetters: this.letters.size, bytes: this.total })
    }
  }

  delete (eventId: string): void {
    const held = this.letters.get(eventId)
    if (held === undefined) return
    this.letters.delete(eventId)
    this.total -= held.bytes
  }

  /** Newest first. */
  newest (limit: number): DeadLetter[] {
    return [...this.letters.values()].reverse().slice(0, Math.max(0, limit)).map((held) => held.letter)
  }
}
