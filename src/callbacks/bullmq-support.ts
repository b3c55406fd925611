// The BullMQ callback driver's plumbing: connection options, time bounds, control-flow errors.
import type { RedisOptions } from 'ioredis'
import { UnrecoverableError } from 'bullmq'
import { reconnectDelay, userRedisOptions } from '../redis/connection.js'
import type { DeliveryResult } from './deliverer.js'

/**
 * The producer's connection (enqueue, dead letters, replay, stats, ping): nothing is queued while
 * Redis is away, so a call fails at once (the relay keeps the events in the outbox and retries), and
 * a hung Redis is bounded by `commandTimeoutMs`.
 */
export function producerConnectionOptions (options: Record<string, unknown>, commandTimeoutMs: number): RedisOptions {
  return {
    connectTimeout: 2000,
    retryStrategy: reconnectDelay,
    ...userRedisOptions(options),
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false
  }
}

/** The worker's connection (BullMQ duplicates it for its blocking fetch): it waits for Redis, as BullMQ requires. */
export function workerConnectionOptions (options: Record<string, unknown>): RedisOptions {
  return {
    connectTimeout: 2000,
    retryStrategy: reconnectDelay,
    ...userRedisOptions(options),
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    lazyConnect: false
  }
}

/** Resolves `promise`, or rejects with `message` after `ms`. */
export async function within<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Name of the custom backoff strategy the jobs ask for (the Worker's `settings.backoffStrategy`). */
export const BACKOFF_TYPE = 'hermod-policy'

/**
 * Thrown by the processor when policy.ts decided to retry: BullMQ's backoff strategy returns
 * `delayMs` and moves the job to the delayed set, counting the attempt, in one script. In memory only:
 * BullMQ stores the message (the deliverer's scrubbed reason) as failedReason.
 */
export class CallbackRetryError extends Error {
  constructor (readonly attempt: number, readonly result: DeliveryResult, readonly delayMs: number, reason: string) {
    super(reason)
    this.name = 'CallbackRetryError'
  }
}

/** Thrown by the processor when policy.ts decided to dead-letter: BullMQ fails the job at once, no retry. */
export class CallbackDeadLetterError extends UnrecoverableError {
  constructor (readonly attempt: number, readonly result: DeliveryResult, reason: string) {
    super(reason)
  }
}
