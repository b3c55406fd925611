// The BullMQ callback queue of the Redis store: jobs in Redis, retries by policy.ts, dead letters in the failed set.
import { ErrorCode, Queue, Worker } from 'bullmq'
import type { Logger } from 'pino'
import type { CallbackConfig, RedisConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { CallbackJobProcessor, type CallbackJob } from './bullmq-processor.js'
import { closeConnection } from '../redis/connection.js'
import { writeAndWait } from '../redis/replica-wait.js'
import { createRedisClient, type RedisClient } from '../redis/topology.js'
import { ThrottledLog } from '../redis/throttled-log.js'
import { BACKOFF_TYPE, bullmqPrefix, producerConnectionOptions, within, workerConnectionOptions } from './bullmq-support.js'
import type { CallbackDeliverer, DeliveryResult } from './deliverer.js'
import type { AttemptReport, SettledResult } from './memory-queue.js'
import type { JitterMode } from './policy.js'
import type { CallbackQueue, CallbackQueueStats, DeadLetter } from './queue.js'

export interface BullmqCallbackQueueOptions {
  redis: RedisConfig
  config: CallbackConfig
  deliverer: Pick<CallbackDeliverer, 'attempt'>
  logger?: Logger
  /** `api`: producer only (enqueue, dead letters, replay, stats), no worker; `all` (default) and `worker` deliver. */
  role?: 'all' | 'api' | 'worker'
  /** Default `callbacks`. */
  queueName?: string
  /** Backoff jitter (policy.ts); `full` by default. */
  jitter?: JitterMode
  /** For the jitter and deferrals; Math.random by default. */
  random?: () => number
  /** Completed jobs kept so that a re-enqueue of the same event id is ignored; default 1 h and 100,000 jobs. */
  completedRetention?: { ageSeconds: number, count: number }
  /** Stalled-job recovery (R19), BullMQ's lockDuration; default 30,000 ms. */
  lockDurationMs?: number
  /** BullMQ's stalledInterval; default 30,000 ms. */
  stalledIntervalMs?: number
  /** Times a job may stall (its worker died) before it is dead-lettered; default 2. */
  maxStalledCount?: number
  /** Longest close() waits for attempts in flight, ms; default timeoutMs + 1 s. */
  closeGraceMs?: number
  /** Bound of every producer command (enqueue, stats, ...) on a hung Redis, ms; default 5,000. */
  commandTimeoutMs?: number
  /** Bound of ping(), ms; default 1,000. */
  pingTimeoutMs?: number
  /** Called after every attempt, once Redis recorded its outcome (metrics, tests). */
  onAttempt?: (event: CallbackEvent, report: AttemptReport) => void
  /** Called once an event is delivered, dead-lettered or skipped (after Redis recorded it). */
  onSettled?: (event: CallbackEvent, result: SettledResult) => void
}

/** Connection errors are logged at most every 5 s (ioredis reports each reconnect attempt). */
const ERROR_LOG_INTERVAL_MS = 5_000

/**
 * CallbackQueue on BullMQ: job id = event id (a second add of the id is ignored while the job exists),
 * job data = the event only. Each attempt goes through `deliverer.attempt`; policy.ts `decideNext`
 * decides, and the processor tells BullMQ with an error: CallbackRetryError (the custom backoff strategy
 * returns its delay) or CallbackDeadLetterError (an UnrecoverableError: failed at once). The failed set is
 * the dead-letter list. A job whose client is at perClientConcurrency in this process is parked in the
 * delayed set and promoted when a slot of that client frees (bullmq-parking.ts), not polled.
 * Construct, then `start()` the worker (roles `all`/`worker`).
 */
export class BullmqCallbackQueue implements CallbackQueue {
  readonly prefix: string
  readonly queueName: string
  private readonly options: BullmqCallbackQueueOptions
  private readonly config: CallbackConfig
  private readonly processor: CallbackJobProcessor
  private readonly producer: RedisClient
  private readonly queue: Queue<CallbackEvent, DeliveryResult>
  private workerConnection: RedisClient | undefined
  private worker: Worker<CallbackEvent, DeliveryResult> | undefined
  private readonly redisErrors: ThrottledLog
  private closing: Promise<void> | undefined

  constructor (options: BullmqCallbackQueueOptions) {
    this.options = options
    this.config = options.config
    this.redisErrors = new ThrottledLog(options.logger, 'callback queue: redis error', ERROR_LOG_INTERVAL_MS)
    this.processor = new CallbackJobProcessor(options)
    this.prefix = bullmqPrefix(options.redis.prefix)
    this.queueName = options.queueName ?? 'callbacks'
    this.producer = createRedisClient(options.redis, producerConnectionOptions(options.redis.options, options.commandTimeoutMs ?? 5_000))
    this.producer.on('error', (err: Error) => this.logError('producer', err))
    this.queue = new Queue<CallbackEvent, DeliveryResult>(this.queueName, {
      connection: this.producer,
      prefix: this.prefix,
      streams: { events: { maxLen: 1_000 } }
    })
    this.queue.on('error', (err: Error) => this.logError('queue', err))
    this.processor.parking.usePromoter(async (jobId) => await this.promoteParked(jobId))
  }

  /** Starts the worker (roles `all` and `worker`); idempotent. Never waits for Redis. */
  start (): void {
    if ((this.options.role ?? 'all') === 'api' || this.worker !== undefined || this.closing !== undefined) return
    const retention = this.options.completedRetention ?? { ageSeconds: 3_600, count: 100_000 }
    const connection = createRedisClient(this.options.redis, workerConnectionOptions(this.options.redis.options))
    connection.on('error', (err: Error) => this.logError('worker connection', err))
    this.workerConnection = connection
    const processor = this.processor
    const worker = new Worker<CallbackEvent, DeliveryResult>(this.queueName, async (job, token) => await processor.process(job, token), {
      connection,
      prefix: this.prefix,
      concurrency: Math.max(1, this.config.concurrency),
      lockDuration: this.options.lockDurationMs ?? this.config.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs ?? this.config.stalledIntervalMs,
      maxStalledCount: this.options.maxStalledCount ?? 2,
      removeOnComplete: { age: retention.ageSeconds, count: retention.count },
      removeOnFail: { count: Math.max(1, this.config.deadLetterMax) },
      settings: { backoffStrategy: processor.backoffStrategy }
    })
    worker.on('error', (err: Error) => this.logError('worker', err))
    worker.on('completed', (job: CallbackJob, result: DeliveryResult) => { processor.onCompleted(job, result) })
    worker.on('failed', (job: CallbackJob | undefined, err: Error) => { if (job !== undefined) processor.onFailed(job, err) })
    worker.on('stalled', (jobId: string) => {
      this.options.logger?.warn({ eventId: jobId }, 'callback job stalled (its worker stopped mid-attempt); it is queued again')
    })
    this.worker = worker
  }

  /** Resolves once the producer (and the worker, when started) are connected. For tests and tools. */
  async waitUntilReady (): Promise<void> {
    await this.queue.waitUntilReady()
    await this.worker?.waitUntilReady()
  }

  async enqueue (events: CallbackEvent[]): Promise<void> {
    if (this.closing !== undefined) throw new Error('callback queue is closed')
    if (events.length === 0) return
    this.assertConnected()
    await this.queue.addBulk(events.map((event) => ({
      name: 'callback',
      data: event,
      opts: { jobId: event.id, attempts: Math.max(1, this.config.attempts), backoff: { type: BACKOFF_TYPE }, stackTraceLimit: 0 }
    })))
    // With wait-replicas the relay acknowledges outbox events only once their jobs reached the replicas:
    // WAIT on the connection (and, on a Cluster, the node) that took them, or a failover could lose both.
    const replicas = this.options.redis.waitReplicas ?? 0
    if (replicas > 0) {
      const wait = { replicas, timeoutMs: this.options.redis.waitTimeoutMs ?? 500 }
      await writeAndWait(this.producer, wait, (pipeline) => pipeline.exists(`${this.prefix}:${this.queueName}:meta`))
    }
  }

  async deadLetters (limit = 100): Promise<DeadLetter[]> {
    if (!(limit >= 1)) return []
    this.assertConnected()
    const jobs = await this.queue.getFailed(0, Math.floor(limit) - 1)
    return jobs.map((job) => ({
      event: job.data,
      attempts: job.attemptsMade,
      reason: job.failedReason ?? 'unknown',
      failedAt: job.finishedOn ?? job.timestamp
    }))
  }

  async replay (eventId: string): Promise<boolean> {
    if (this.closing !== undefined) throw new Error('callback queue is closed')
    this.assertConnected()
    const job = await this.queue.getJob(eventId)
    if (job === undefined) return false
    try {
      // Back to wait with attemptsMade and attemptsStarted reset: a fresh schedule.
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
    } catch (err) {
      const code = (err as { code?: number }).code
      if (code === ErrorCode.JobNotInState || code === ErrorCode.JobNotExist) return false
      throw err
    }
    this.options.logger?.info({ eventId }, 'dead letter replayed')
    return true
  }

  async stats (): Promise<CallbackQueueStats> {
    this.assertConnected()
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed')
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      deadLettered: c.failed ?? 0,
      // Completed jobs still retained (delivered or skipped): a gauge bounded by completedRetention.
      delivered: c.completed ?? 0
    }
  }

  async ping (): Promise<void> {
    this.assertConnected()
    await within(this.producer.ping(), this.options.pingTimeoutMs ?? 1_000, 'redis did not answer PING in time')
  }

  /** Closes the worker (waits for attempts in flight, bounded), then the queue, then the connections. */
  async close (): Promise<void> {
    this.closing ??= this.shutdown()
    await this.closing
  }

  private async shutdown (): Promise<void> {
    const worker = this.worker
    if (worker !== undefined) {
      const grace = this.options.closeGraceMs ?? this.config.timeoutMs + 1_000
      try {
        await within(worker.close(), grace, 'worker did not close in time')
      } catch (err) {
        this.options.logger?.warn({ err: { message: (err as Error).message } },
          'callback worker closed before its attempts finished; Redis hands them to another worker after the lock expires')
        await within(worker.disconnect(), 1_000, 'disconnect').catch(() => {})
      }
    }
    await within(this.queue.close(), 2_000, 'queue close').catch(() => {})
    await Promise.all([
      closeConnection(this.producer),
      this.workerConnection === undefined ? undefined : closeConnection(this.workerConnection)
    ])
  }

  /** Moves a parked (delayed) job to wait; false when it is no longer delayed, or the queue is closing. */
  private async promoteParked (jobId: string): Promise<boolean> {
    if (this.closing !== undefined) return false
    this.assertConnected()
    const job = await this.queue.getJob(jobId)
    if (job === undefined) return false
    try {
      await job.promote()
      return true
    } catch (err) {
      const code = (err as { code?: number }).code
      if (code === ErrorCode.JobNotInState || code === ErrorCode.JobNotExist) return false
      throw err
    }
  }

  private assertConnected (): void {
    if (this.producer.status !== 'ready') throw new Error(`callback queue unavailable: redis connection is ${this.producer.status}`)
  }

  private logError (source: string, err: Error): void {
    this.redisErrors.error(source, err)
  }
}
