// The BullMQ worker's side of a callback job: one attempt, the policy's decision, the outcome BullMQ recorded.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import type { Logger } from 'pino'
import type { CallbackConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { ClientParking, parkDelayMs } from './bullmq-parking.js'
import { CallbackDeadLetterError, CallbackRetryError } from './bullmq-support.js'
import type { CallbackDeliverer, DeliveryResult } from './deliverer.js'
import type { AttemptReport, SettledResult } from './memory-queue.js'
import { notifyObservers } from './queue.js'
import { backoffDelay, decideNext, type JitterMode } from './policy.js'

export type CallbackJob = Job<CallbackEvent, DeliveryResult>

export interface CallbackJobProcessorOptions {
  deliverer: Pick<CallbackDeliverer, 'attempt'>
  config: CallbackConfig
  logger?: Logger
  jitter?: JitterMode
  random?: () => number
  onAttempt?: (event: CallbackEvent, report: AttemptReport) => void
  onSettled?: (event: CallbackEvent, result: SettledResult) => void
}

/**
 * `process` is the Worker's processor: it makes the attempt with `deliverer.attempt`, asks policy.ts
 * `decideNext`, and returns the result (job completed) or throws CallbackRetryError (BullMQ's backoff
 * strategy, `backoffStrategy` here, returns the decided delay) or CallbackDeadLetterError (failed at once).
 * `onCompleted` / `onFailed` are the Worker's events: they log and call the hooks once Redis holds the outcome.
 */
export class CallbackJobProcessor {
  private readonly config: CallbackConfig
  private readonly random: () => number
  /** Attempts in flight in this process, per client (perClientConcurrency). */
  private readonly activeByClient = new Map<string, number>()
  /** Jobs of clients at their limit, waiting in the delayed set for a slot (woken when one frees). */
  readonly parking: ClientParking

  constructor (private readonly options: CallbackJobProcessorOptions) {
    this.config = options.config
    this.random = options.random ?? Math.random
    this.parking = new ClientParking(options.logger)
  }

  async process (job: CallbackJob, token?: string): Promise<DeliveryResult> {
    const event = job.data
    const clientId = event.clientId
    const jobId = job.id ?? event.id
    this.parking.taken(clientId, jobId)
    const active = this.activeByClient.get(clientId) ?? 0
    if (active >= this.perClientLimit() && token !== undefined) {
      // The client is at its limit in this process: free the worker slot for other clients and park
      // the job (no attempt is counted) until a slot of this client frees and wakes it.
      await job.moveToDelayed(Date.now() + parkDelayMs(this.config.timeoutMs, this.random), token)
      this.parking.park(clientId, jobId)
      // A slot that freed while the job was being moved found nothing to wake: wake it now.
      if ((this.activeByClient.get(clientId) ?? 0) < this.perClientLimit()) void this.parking.wake(clientId)
      throw new DelayedError()
    }
    this.activeByClient.set(clientId, active + 1)
    // Room left for this client while jobs of it are parked (a woken one went to another instance): wake one more.
    if (active + 1 < this.perClientLimit() && this.parking.count(clientId) > 0) void this.parking.wake(clientId)
    const attempt = job.attemptsMade + 1
    let result: DeliveryResult
    try {
      result = await this.options.deliverer.attempt(event, attempt)
    } catch (err) {
      this.options.logger?.error({ eventId: event.id, err }, 'callback attempt threw')
      result = { kind: 'retry', reason: 'internal error' }
    } finally {
      const left = (this.activeByClient.get(clientId) ?? 1) - 1
      if (left > 0) this.activeByClient.set(clientId, left)
      else this.activeByClient.delete(clientId)
      void this.parking.wake(clientId)
    }
    if (result.kind === 'skipped') return result
    const decision = decideNext(result, attempt, this.config, {
      jitter: this.options.jitter ?? 'full',
      random: this.random,
      previousDelayMs: job.delay > 0 ? job.delay : undefined
    })
    if (decision.kind === 'delivered' && result.kind === 'delivered') return result
    const reason = result.kind === 'delivered' ? `HTTP ${result.status}` : result.reason
    if (decision.kind === 'retry') throw new CallbackRetryError(attempt, result, decision.delayMs, reason)
    throw new CallbackDeadLetterError(attempt, result, decision.kind === 'dead-letter' ? decision.reason : reason)
  }

  private perClientLimit (): number {
    return Math.max(1, this.config.perClientConcurrency)
  }

  /** The Worker's `settings.backoffStrategy`: the delay policy.ts decided (anything else thrown: the policy's plain backoff). */
  readonly backoffStrategy = (attemptsMade: number, _type?: string, err?: Error): number =>
    err instanceof CallbackRetryError ? err.delayMs : backoffDelay(attemptsMade, this.config, { random: this.random })

  onCompleted (job: CallbackJob, result: DeliveryResult): void {
    const attempts = job.attemptsMade
    if (result.kind === 'skipped') {
      this.observe(job.data, { attempt: attempts, result }, { kind: 'skipped', reason: result.reason, attempts })
    } else if (result.kind === 'delivered') {
      this.observe(job.data, { attempt: attempts, result }, { kind: 'delivered', status: result.status, attempts })
    }
  }

  onFailed (job: CallbackJob, err: Error): void {
    const event = job.data
    const attempts = job.attemptsMade
    // BullMQ retried iff the error allows it and attemptsMade (now counting this attempt) is below the job's attempts.
    const retried = !(err instanceof UnrecoverableError) && attempts < (job.opts.attempts ?? 1)
    if (retried) {
      if (err instanceof CallbackRetryError) this.observe(event, { attempt: err.attempt, result: err.result, nextDelayMs: err.delayMs })
      else this.options.logger?.warn({ eventId: event.id, attempts, reason: err.message }, 'callback job failed internally; retrying')
      return
    }
    this.options.logger?.warn({ eventId: event.id, commandId: event.commandId, clientId: event.clientId, attempts, reason: err.message },
      'callback dead-lettered')
    const settled: SettledResult = { kind: 'dead-lettered', reason: err.message, attempts }
    if (err instanceof CallbackRetryError || err instanceof CallbackDeadLetterError) {
      this.observe(event, { attempt: err.attempt, result: err.result }, settled)
    } else {
      this.observe(event, undefined, settled) // e.g. stalled more than maxStalledCount times
    }
  }

  private observe (event: CallbackEvent, report: AttemptReport | undefined, settled?: SettledResult): void {
    notifyObservers(this.options, event, report, settled)
  }
}
