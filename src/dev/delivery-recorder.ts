// Turns the deliverer's attempt reports and the queue's scheduling decision into delivery log entries.
import type { Logger } from 'pino'
import type { DeliveryAttemptReport, DeliveryObserver } from '../callbacks/delivery-observer.js'
import type { AttemptReport } from '../callbacks/memory-queue.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { BODY_KEPT, type DeliveryLog, type DeliveryLogEntry } from './delivery-log.js'

/** Attempts waiting for the queue's decision; past it the oldest are written without a next retry. */
const MAX_PENDING = 10_000

/** The headers as the log keeps them: the Authorization credentials never leave the process. */
export function maskHeaders (headers: Record<string, string>): Record<string, string> {
  const masked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    masked[name] = name.toLowerCase() === 'authorization' ? `${value.split(' ')[0] ?? ''} [masked]`.trim() : value
  }
  return masked
}

/**
 * The deliverer tells it of each attempt (observer), the queue of what it scheduled next (`scheduled`,
 * from the queue's onAttempt hook, in the same process): the entry is written once both are known.
 */
export class DeliveryRecorder implements DeliveryObserver {
  private readonly pending = new Map<string, DeliveryLogEntry>()

  constructor (private readonly log: DeliveryLog, private readonly logger?: Logger, private readonly now: () => number = Date.now) {}

  attempted (report: DeliveryAttemptReport): void {
    try {
      const { event, outcome, request } = report
      const entry: DeliveryLogEntry = {
        at: new Date(report.startedAt).toISOString(),
        eventId: event.id,
        commandId: event.commandId,
        clientId: event.clientId,
        commandType: event.type.toUpperCase(),
        state: event.state,
        ...(event.externalId === undefined ? {} : { externalId: event.externalId }),
        attempt: report.attempt,
        url: report.url,
        outcome: outcome.kind,
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        durationMs: report.durationMs,
        ...(outcome.kind === 'delivered' ? {} : { error: outcome.reason })
      }
      if (request !== undefined) {
        entry.headers = maskHeaders(request.headers)
        entry.body = request.body.length > BODY_KEPT ? request.body.slice(0, BODY_KEPT) : request.body
        if (request.body.length > BODY_KEPT) entry.bodyTruncated = true
      }
      if (outcome.kind !== 'retry') return this.write(entry)
      if (this.pending.size >= MAX_PENDING) {
        const [oldestKey, oldest] = this.pending.entries().next().value as [string, DeliveryLogEntry]
        this.pending.delete(oldestKey)
        this.write(oldest)
      }
      this.pending.set(pendingKey(event, report.attempt), entry)
    } catch (err) {
      this.logger?.warn({ err: { message: (err as Error).message } }, 'delivery log: attempt not recorded')
    }
  }

  /** The queue's report after an attempt: writes the waiting entry with its next retry time. */
  scheduled (event: CallbackEvent, report: AttemptReport): void {
    const key = pendingKey(event, report.attempt)
    const entry = this.pending.get(key)
    if (entry === undefined) return
    this.pending.delete(key)
    if (report.nextDelayMs !== undefined) entry.nextRetryAt = new Date(this.now() + report.nextDelayMs).toISOString()
    this.write(entry)
  }

  /** Writes what still waits for a decision (at shutdown). */
  async flush (): Promise<void> {
    const waiting = [...this.pending.values()]
    this.pending.clear()
    await Promise.all(waiting.map((entry) => this.log.append(entry)))
  }

  private write (entry: DeliveryLogEntry): void {
    this.log.append(entry).catch((err: Error) => this.logger?.warn({ err: { message: err.message } }, 'delivery log append failed'))
  }
}

function pendingKey (event: CallbackEvent, attempt: number): string {
  return `${event.id}#${attempt}`
}
