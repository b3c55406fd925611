// The outbox relay: moves terminal events from the store's outbox into the callback queue, idempotently.
import type { Logger } from 'pino'
import type { MailboxStore } from '../mailbox/store.js'
import type { CallbackEvent } from '../mailbox/types.js'
import type { CallbackQueue } from './queue.js'

const BATCH = 500

/**
 * Drains the outbox when the store announces events and every `pollMs` (events written by other
 * instances, or left by a crash between enqueue and ack). Enqueue is idempotent by event id, so
 * a batch read twice is queued once.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private draining: Promise<number> | undefined
  private again = false
  private failing = false

  constructor (
    private readonly store: MailboxStore,
    private readonly queue: CallbackQueue,
    private readonly pollMs: number,
    private readonly logger?: Logger,
    /** Called with every batch once it is queued (metrics). */
    private readonly onQueued?: (events: CallbackEvent[]) => void
  ) {}

  start (): void {
    if (this.timer !== undefined) return
    this.unsubscribe = this.store.onOutbox(() => { void this.drain() })
    this.timer = setInterval(() => { void this.drain() }, this.pollMs)
    this.timer.unref()
    void this.drain()
  }

  /** Moves everything the outbox holds now; returns how many events were queued. */
  async drain (): Promise<number> {
    if (this.draining !== undefined) {
      this.again = true
      return await this.draining
    }
    this.draining = this.run()
    try {
      return await this.draining
    } finally {
      this.draining = undefined
      if (this.again) {
        this.again = false
        void this.drain()
      }
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    this.unsubscribe?.()
    await this.draining?.catch(() => {})
  }

  private async run (): Promise<number> {
    let moved = 0
    try {
      for (;;) {
        const events = await this.store.readOutbox(BATCH)
        if (events.length === 0) break
        await this.queue.enqueue(events)
        await this.store.ackOutbox(events.map((e) => e.id))
        this.onQueued?.(events)
        moved += events.length
        if (events.length < BATCH) break
      }
      if (this.failing) this.logger?.info('outbox relay recovered')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.logger?.warn({ err: { message: (err as Error).message } }, 'outbox relay cannot move events; retrying')
      this.failing = true
    }
    return moved
  }
}
