// Throttled logging of Redis problems: ioredis reports every reconnect attempt, the log gets one line per interval.
import type { Logger } from 'pino'

/**
 * Logs a warning per (source, message) at most once every `intervalMs`. Only the error's message is
 * logged (never its stack or the command's arguments, which may hold ids). Bounded: it forgets what it
 * saw once it holds 100 distinct keys.
 */
export class ThrottledLog {
  private readonly last = new Map<string, number>()

  /**
   * @param logger where the lines go (none: nothing is logged)
   * @param message the log line's message
   */
  constructor (private readonly logger: Logger | undefined, private readonly message: string, private readonly intervalMs = 5_000) {}

  /** Logs `fields` under `source` unless the same source and text were logged less than an interval ago. */
  warn (source: string, text: string, fields: Record<string, unknown> = {}): void {
    const now = Date.now()
    const key = `${source}\u0000${text}`
    if (now - (this.last.get(key) ?? -Infinity) < this.intervalMs) return
    if (this.last.size >= 100) this.last.clear()
    this.last.set(key, now)
    this.logger?.warn({ source, ...fields }, this.message)
  }

  /** A Redis error: its message only. */
  error (source: string, err: Error): void {
    this.warn(source, err.message, { err: { message: err.message } })
  }
}
