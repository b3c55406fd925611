// The callback queue interface: the in-process driver and the BullMQ driver both implement it.
import type { CallbackEvent } from '../mailbox/types.js'

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
