// The callback queue interface: the in-process driver and the BullMQ driver both implement it.
import type { Logger } from 'pino'
import type { CallbackEvent } from '../mailbox/types.js'
import type { AttemptReport, SettledResult } from './memory-queue.js'

/** A callback whose delivery schedule is exhausted (or that a target refused for good). */
export interface DeadLetter {
  event: CallbackEvent
  attempts: number
  /** Why the last attempt failed: `HTTP 410`, `timeout`, `ECONNREFUSED`, ... (never a credential). */
  reason: string
  failedAt: number
}

export interface CallbackQueueStats {
  waiting: number
  active: number
  delayed: number
  deadLettered: number
  delivered: number
}

export interface CallbackQueue {
  /** Queues events for delivery. Idempotent by event id: an id already queued or delivered is ignored. */
  enqueue (events: CallbackEvent[]): Promise<void>
  deadLetters (limit?: number): Promise<DeadLetter[]>
  /** Queues a dead letter again with a fresh schedule; false when no dead letter has that id. */
  replay (eventId: string): Promise<boolean>
  stats (): Promise<CallbackQueueStats>
  /** Calls `listener` with the number of callbacks just dead-lettered because the queue was full; unbounded drivers leave it out. */
  onQueueFull? (listener: (count: number) => void): void
  /** Starts delivering (a worker); drivers that deliver from construction leave it out. */
  start? (): void
  /** Resolves when the queue's backend answers. */
  ping (): Promise<void>
  /** Stops taking work, waits for attempts in flight (bounded), releases resources. */
  close (): Promise<void>
}

/** The hooks a queue calls after each attempt and once an event is settled (metrics, the dev delivery log). */
export interface QueueObservers {
  onAttempt?: (event: CallbackEvent, report: AttemptReport) => void
  onSettled?: (event: CallbackEvent, result: SettledResult) => void
  logger?: Logger
}

/** Calls the observers of both queue drivers; one that throws is logged and never breaks delivery. */
export function notifyObservers (
  observers: QueueObservers,
  event: CallbackEvent,
  report: AttemptReport | undefined,
  settled?: SettledResult
): void {
  try {
    if (report !== undefined) observers.onAttempt?.(event, report)
    if (settled !== undefined) observers.onSettled?.(event, settled)
  } catch (err) {
    observers.logger?.error({ eventId: event.id, err }, 'callback queue observer threw')
  }
}
