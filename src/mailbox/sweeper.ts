// The sweeper: every instance periodically times out commands past their deadline (the store makes it once-only).
import type { Logger } from 'pino'
import type { Clock } from './clock.js'
import type { MailboxStore } from './store.js'

const BATCH = 500

/** Runs `claimDue` every `intervalMs`; batches until nothing is due. Store outages are logged, not thrown. */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  private failing = false

  constructor (
    private readonly store: MailboxStore,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly logger?: Logger
  ) {}

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { void this.sweepOnce() }, this.intervalMs)
    this.timer.unref()
  }

  /** One sweep (also for tests that drive the clock): returns how many commands timed out. */
  async sweepOnce (): Promise<number> {
    if (this.running !== undefined) return await this.running
    this.running = this.sweep()
    try {
      return await this.running
    } finally {
      this.running = undefined
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => {})
  }

  private async sweep (): Promise<number> {
    let total = 0
    try {
      for (;;) {
        const claimed = await this.store.claimDue(this.clock.now(), BATCH)
        total += claimed
        if (claimed < BATCH) break
      }
      if (this.failing) this.logger?.info('sweeper recovered')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.logger?.warn({ err: { message: (err as Error).message } }, 'sweeper cannot reach the store; retrying')
      this.failing = true
    }
    if (total > 0) this.logger?.debug({ timedOut: total }, 'commands timed out')
    return total
  }
}
