// The BullMQ callback queue of the Redis store: jobs in Redis (one or more shards), retries by policy.ts, dead letters in the failed set.
import { ErrorCode, Queue, Worker } from 'bullmq'
import type { Logger } from 'pino'
import type { CallbackConfig, RedisConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { CallbackJobProcessor, type CallbackJob } from './bullmq-processor.js'
import { closeConnection } from '../redis/connection.js'
import { writeAndWait } from '../redis/replica-wait.js'
import { createRedisClient, type RedisClient } from '../redis/topology.js'
import { ThrottledLog } from '../redis/throttled-log.js'
import { shardConcurrency, shardOf, shardPrefix } from './bullmq-shards.js'
import { BACKOFF_TYPE, producerConnectionOptions, within, workerConnectionOptions } from './bullmq-support.js'
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
  /** Queues (shards, `{cb:<i>}`) the callbacks are spread over by client id; default `config.queueShards`, else 1 (`{cb}`). */
  shards?: number
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
 * With several shards, each client's callbacks go to the queue `shardOf(clientId)` picks (its own
 * hash tag `{cb:<i>}`, so on a Cluster the shards spread over the masters); one worker per shard
 * consumes it with `concurrency / shards` slots (rounded up), dead letters and stats are read from all.
 * Construct, then `start()` the workers (roles `all`/`worker`).
 */
export class BullmqCallbackQueue implements CallbackQueue {
  /** BullMQ's key prefix of the first shard (`<prefix>:{cb}` with one shard). */
  readonly prefix: string
  /** Every shard's BullMQ key prefix, by shard index. */
  readonly prefixes: readonly string[]
  readonly queueName: string
  private readonly options: BullmqCallbackQueueOptions
  private readonly config: CallbackConfig
  private readonly processor: CallbackJobProcessor
  private readonly producer: RedisClient
  private readonly queues: Array<Queue<CallbackEvent, DeliveryResult>>
  private workerConnection: RedisClient | undefined
  private workers: Array<Worker<CallbackEvent, DeliveryResult>> | undefined
  private readonly redisErrors: ThrottledLog
  private closing: Promise<void> | undefined

  constructor (options: BullmqCallbackQueueOptions) {
    this.options = options
    this.config = options.config
    this.redisErrors = new ThrottledLog(options.logger, 'callback queue: redis error', ERROR_LOG_INTERVAL_MS)
    this.processor = new CallbackJobProcessor(options)
    const shards = Math.max(1, Math.floor(options.shards ?? options.config.queueShards ?? 1))
    this.prefixes = Array.from({ length: shards }, (_, i) => shardPrefix(options.redis.prefix, i, shards))
    this.prefix = this.prefixes[0]!
    this.queueName = options.queueName ?? 'callbacks'
    this.producer = createRedisClient(options.redis, producerConnectionOptions(options.redis.options, options.commandTimeoutMs ?? 5_000))
    this.producer.on('error', (err: Error) => this.logError('producer', err))
    // All shards share the producer connection (BullMQ queues on a passed connection do not close it).
    this.queues = this.prefixes.map((prefix) => {
      const queue = new Queue<CallbackEvent, DeliveryResult>(this.queueName, {
        connection: this.producer,
        prefix,
        streams: { events: { maxLen: 1_000 } }
      })
      queue.on('error', (err: Error) => this.logError('queue', err))
      return queue
    })
    this.processor.parking.usePromoter(async (jobId, clientId) => await this.promoteParked(jobId, clientId))
  }

  /** Number of shards (queues) the callbacks are spread over. */
  get shardCount (): number { return this.queues.length }

  /** The shard index of a client's callbacks. */
  shardOfClient (clientId: string): number { return shardOf(clientId, this.queues.length) }

  /** Starts the worker (roles `all` and `worker`); idempotent. Never waits for Redis. */
  start (): void {
    if ((this.options.role ?? 'all') === 'api' || this.workers !== undefined || this.closing !== undefined) return
    const retention = this.options.completedRetention ?? { ageSeconds: 3_600, count: 100_000 }
    const connection = createRedisClient(this.options.redis, workerConnectionOptions(this.options.redis.options))
    connection.on('error', (err: Error) => this.logError('worker connection', err))
    this.workerConnection = connection
    const concurrency = shardConcurrency(this.config.concurrency, this.queues.length)
    this.workers = this.prefixes.map((prefix) => this.startWorker(connection, prefix, concurrency, retention))
  }

  /** One shard's worker; each holds a blocking duplicate of `connection` for its fetch. */
  private startWorker (
    connection: RedisClient, prefix: string, concurrency: number, retention: { ageSeconds: number, count: number }
  ): Worker<CallbackEvent, DeliveryResult> {
    const processor = this.processor
    const worker = new Worker<CallbackEvent, DeliveryResult>(this.queueName, async (job, token) => await processor.process(job, token), {
      connection,
      prefix,
      concurrency,
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
    return worker
  }

  /** Resolves once the producer (and the worker, when started) are connected. For tests and tools. */
  async waitUntilReady (): Promise<void> {
    await Promise.all(this.queues.map(async (queue) => await queue.waitUntilReady()))
    await Promise.all((this.workers ?? []).map(async (worker) => await worker.waitUntilReady()))
  }

  async enqueue (events: CallbackEvent[]): Promise<void> {
    if (this.closing !== undefined) throw new Error('callback queue is closed')
    if (events.length === 0) return
    this.assertConnected()
    const byShard = new Map<number, CallbackEvent[]>()
    for (const event of events) {
      const shard = this.shardOfClient(event.clientId)
      const list = byShard.get(shard)
      if (list === undefined) byShard.set(shard, [event])
      else list.push(event)
    }
    await Promise.all([...byShard].map(async ([shard, batch]) => await this.queues[shard]!.addBulk(batch.map((event) => ({
      name: 'callback',
      data: event,
      opts: { jobId: event.id, attempts: Math.max(1, this.config.attempts), backoff: { type: BACKOFF_TYPE }, stackTraceLimit: 0 }
    })))))
    // With wait-replicas the relay acknowledges outbox events only once their jobs reached the replicas:
    // WAIT on the connection (and, on a Cluster, the node) that took them, or a failover could lose both.
    const replicas = this.options.redis.waitReplicas ?? 0
    if (replicas > 0) {
      const wait = { replicas, timeoutMs: this.options.redis.waitTimeoutMs ?? 500 }
      // One WAIT per shard written: on a Cluster each shard's slot may sit on another master.
      await Promise.all([...byShard.keys()].map(async (shard) =>
        await writeAndWait(this.producer, wait, (pipeline) => pipeline.exists(`${this.prefixes[shard]!}:${this.queueName}:meta`))))
    }
  }

  /** The newest `limit` dead letters of all shards together (each shard's newest `limit`, merged by failedAt). */
  async deadLetters (limit = 100): Promise<DeadLetter[]> {
    if (!(limit >= 1)) return []
    this.assertConnected()
    const n = Math.floor(limit)
    const perShard = await Promise.all(this.queues.map(async (queue) => await queue.getFailed(0, n - 1)))
    const letters: DeadLetter[] = perShard.flat().map((job) => ({
      event: job.data,
      attempts: job.attemptsMade,
      reason: job.failedReason ?? 'unknown',
      failedAt: job.finishedOn ?? job.timestamp
    }))
    if (this.queues.length > 1) letters.sort((a, b) => b.failedAt - a.failedAt || a.event.id.localeCompare(b.event.id))
    return letters.slice(0, n)
  }

  async replay (eventId: string): Promise<boolean> {
    if (this.closing !== undefined) throw new Error('callback queue is closed')
    this.assertConnected()
    // The event id does not name its client: look in every shard (a job id is unique per shard).
    const found = await Promise.all(this.queues.map(async (queue) => await queue.getJob(eventId)))
    const job = found.find((j) => j !== undefined)
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
    const counts = await Promise.all(this.queues.map(async (queue) =>
      await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed')))
    const c: Record<string, number> = {}
    for (const shard of counts) for (const [state, n] of Object.entries(shard)) c[state] = (c[state] ?? 0) + n
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
    const workers = this.workers ?? []
    if (workers.length > 0 && this.workerConnection !== undefined && this.workerConnection.status !== 'ready') {
      // Redis unreachable: no attempt can record its outcome, and BullMQ's close would wait out the grace for a
      // connection that is not coming back. Attempts in flight are handed on when their lock expires.
      this.options.logger?.warn('callback workers closed at once: their Redis connection is down')
      await within(Promise.all(workers.map(async (worker) => await worker.close(true))), 1_000, 'forced close').catch(() => {})
    } else if (workers.length > 0) {
      const grace = this.options.closeGraceMs ?? this.config.timeoutMs + 1_000
      try {
        await within(Promise.all(workers.map(async (worker) => await worker.close())), grace, 'worker did not close in time')
      } catch (err) {
        this.options.logger?.warn({ err: { message: (err as Error).message } },
          'callback worker closed before its attempts finished; Redis hands them to another worker after the lock expires')
        await within(Promise.all(workers.map(async (worker) => await worker.disconnect())), 1_000, 'disconnect').catch(() => {})
      }
    }
    await within(Promise.all(this.queues.map(async (queue) => await queue.close())), 2_000, 'queue close').catch(() => {})
    await Promise.all([
      closeConnection(this.producer),
      this.workerConnection === undefined ? undefined : closeConnection(this.workerConnection)
    ])
  }

  /** Moves a parked (delayed) job to wait; false when it is no longer delayed, or the queue is closing. */
  private async promoteParked (jobId: string, clientId: string): Promise<boolean> {
    if (this.closing !== undefined) return false
    this.assertConnected()
    const job = await this.queues[this.shardOfClient(clientId)]!.getJob(jobId)
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
