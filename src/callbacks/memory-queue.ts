// The in-process callback queue of the embedded store: timers, fair per-client concurrency, bounds, dead letters.
import type { Logger } from 'pino'
import type { CallbackConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import type { CallbackDeliverer, DeliveryResult } from './deliverer.js'
import { DeadLetterList, eventBytes, QUEUE_FULL_REASON, queueLimits, ThrottledWarning, type QueueLimits } from './memory-queue-bounds.js'
import { decideNext, type JitterMode } from './policy.js'
import { notifyObservers, type CallbackQueue, type CallbackQueueStats, type DeadLetter } from './queue.js'

/** How an event's delivery ended. */
export type SettledResult =
  | { kind: 'delivered', status: number, attempts: number }
  | { kind: 'dead-lettered', reason: string, attempts: number }
  | { kind: 'skipped', reason: string, attempts: number }

/** One attempt as the queue saw it; `nextDelayMs` is set when another attempt was scheduled. */
export interface AttemptReport {
  attempt: number
  result: DeliveryResult
  nextDelayMs?: number
}

/** The in-process queue's collaborators and knobs; only `deliverer` and `config` are required. */
export interface MemoryCallbackQueueOptions {
  deliverer: Pick<CallbackDeliverer, 'attempt'>
  config: CallbackConfig
  logger?: Logger
  /** Backoff jitter (policy.ts); `full` by default. */
  jitter?: JitterMode
  /** For the jitter; Math.random by default. */
  random?: () => number
  now?: () => number
  /** Event ids remembered for idempotent enqueue after delivery; default 100,000. */
  rememberedIds?: number
  /** Longest close() waits for attempts in flight, ms; default timeoutMs + 1 s. */
  closeGraceMs?: number
  /** Called after every attempt (metrics, tests). */
  onAttempt?: (event: CallbackEvent, report: AttemptReport) => void
  /** Called once an event is delivered, dead-lettered or skipped. */
  onSettled?: (event: CallbackEvent, result: SettledResult) => void
}

interface Entry {
  event: CallbackEvent
  /** Attempts made so far. */
  attempts: number
  previousDelayMs?: number
  timer?: NodeJS.Timeout
  /** eventBytes(event), counted in the queue's held bytes while the entry exists. */
  bytes: number
}

/**
 * CallbackQueue for one process (nothing survives a restart, like the embedded store). Ready events
 * wait in one FIFO per client, served round-robin, so a client at its perClientConcurrency limit
 * (say, a target that hangs) never holds a global slot another client could use (R15).
 * Memory is bounded: at most queue-max-events callbacks and queue-max-bytes (estimated) are held; an
 * event past either bound is dead-lettered at once with QUEUE_FULL_REASON (its command's state is
 * decided already; replay is the way back), reported to onQueueFull listeners and logged once per
 * window. The dead letters are bounded by dead-letter-max and, separately, by queue-max-bytes.
 */
export class MemoryCallbackQueue implements CallbackQueue {
  private readonly options: MemoryCallbackQueueOptions
  private readonly config: CallbackConfig
  private readonly now: () => number
  private readonly rememberedMax: number
  private readonly limits: QueueLimits
  /** Every event queued, delayed or in flight, by id. */
  private readonly entries = new Map<string, Entry>()
  /** Sum of the entries' bytes. */
  private heldBytes = 0
  /** Ready events per client; Map order is the round-robin order. */
  private readonly ready = new Map<string, Entry[]>()
  private readonly activeByClient = new Map<string, number>()
  private readonly delayed = new Set<Entry>()
  private readonly inFlight = new Set<Promise<void>>()
  /** Ids seen recently (insertion order, oldest evicted first). */
  private readonly seen = new Set<string>()
  private readonly dead: DeadLetterList
  private readonly queueFullListeners = new Set<(count: number) => void>()
  private readonly queueFullWarning: ThrottledWarning
  private waiting = 0
  private active = 0
  private delivered = 0
  private closed = false

  constructor (options: MemoryCallbackQueueOptions) {
    this.options = options
    this.config = options.config
    this.now = options.now ?? Date.now
    this.rememberedMax = Math.max(1, options.rememberedIds ?? 100_000)
    this.limits = queueLimits(this.config)
    this.dead = new DeadLetterList(this.limits, options.logger, this.now)
    this.queueFullWarning = new ThrottledWarning(options.logger,
      'callback queue full: callbacks dead-lettered without an attempt (queue-max-events / queue-max-bytes)', undefined, this.now)
  }

  async enqueue (events: CallbackEvent[]): Promise<void> {
    if (this.closed) throw new Error('callback queue is closed')
    let full = 0
    for (const event of events) {
      if (this.seen.has(event.id) || this.entries.has(event.id) || this.dead.has(event.id)) continue
      this.remember(event.id)
      if (!this.hold(event)) full++
    }
    this.reportQueueFull(full)
    this.pump()
  }

  /** Listens for callbacks dead-lettered because the queue was full (`count` per enqueue or replay). */
  onQueueFull (listener: (count: number) => void): void {
    this.queueFullListeners.add(listener)
  }

  async deadLetters (limit = 100): Promise<DeadLetter[]> {
    return this.dead.newest(limit)
  }

  async replay (eventId: string): Promise<boolean> {
    if (this.closed) throw new Error('callback queue is closed')
    const letter = this.dead.get(eventId)
    if (letter === undefined) return false
    this.dead.delete(eventId)
    // A full queue dead-letters it again at once (reason: queue full), like any event past the bound.
    this.reportQueueFull(this.hold(letter.event) ? 0 : 1)
    this.pump()
    return true
  }

  async stats (): Promise<CallbackQueueStats> {
    return {
      waiting: this.waiting,
      active: this.active,
      delayed: this.delayed.size,
      deadLettered: this.dead.size,
      delivered: this.delivered
    }
  }

  /** What the queue holds now against its bounds (tests, diagnostics). */
  usage (): { events: number, bytes: number, deadLetterBytes: number, limits: QueueLimits } {
    return { events: this.entries.size, bytes: this.heldBytes, deadLetterBytes: this.dead.bytes, limits: this.limits }
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const entry of this.delayed) clearTimeout(entry.timer)
    this.delayed.clear()
    let timer: NodeJS.Timeout | undefined
    const grace = this.options.closeGraceMs ?? this.config.timeoutMs + 1_000
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>(resolve => { timer = setTimeout(resolve, grace) })
    ])
    clearTimeout(timer)
    const dropped = this.entries.size
    if (dropped > 0) this.options.logger?.warn({ dropped }, 'callback queue closed with undelivered callbacks (embedded queue)')
  }

  private remember (id: string): void {
    this.seen.add(id)
    if (this.seen.size > this.rememberedMax) {
      const oldest = this.seen.values().next()
      if (oldest.done !== true) this.seen.delete(oldest.value)
    }
  }

  /** Queues a fresh schedule for `event` within the bounds; past them, dead-letters it and returns false. */
  private hold (event: CallbackEvent): boolean {
    const bytes = eventBytes(event)
    const bound = this.entries.size >= this.limits.maxEvents
      ? 'queue-max-events'
      : this.heldBytes + bytes > this.limits.maxBytes ? 'queue-max-bytes' : undefined
    if (bound !== undefined) {
      this.dead.add({ event, attempts: 0, reason: QUEUE_FULL_REASON, failedAt: this.now() })
      this.queueFullWarning.note({
        bound,
        events: this.entries.size,
        bytes: this.heldBytes,
        maxEvents: this.limits.maxEvents,
        maxBytes: this.limits.maxBytes,
        eventId: event.id,
        clientId: event.clientId
      })
      this.observe(event, undefined, { kind: 'dead-lettered', reason: QUEUE_FULL_REASON, attempts: 0 })
      return false
    }
    const entry: Entry = { event, attempts: 0, bytes }
    this.entries.set(event.id, entry)
    this.heldBytes += bytes
    this.pushReady(entry)
    return true
  }

  /** Removes a settled entry and its bytes. */
  private release (entry: Entry): void {
    if (this.entries.delete(entry.event.id)) this.heldBytes -= entry.bytes
  }

  private reportQueueFull (count: number): void {
    if (count === 0) return
    for (const listener of this.queueFullListeners) {
      try {
        listener(count)
      } catch (err) {
        this.options.logger?.error({ err }, 'callback queue-full listener threw')
      }
    }
  }

  private pushReady (entry: Entry): void {
    const list = this.ready.get(entry.event.clientId)
    if (list === undefined) this.ready.set(entry.event.clientId, [entry])
    else list.push(entry)
    this.waiting++
  }

  /** Starts ready attempts, one per client per round, within the global and per-client limits. */
  private pump (): void {
    const perClient = Math.max(1, this.config.perClientConcurrency)
    const global = Math.max(1, this.config.concurrency)
    let progress = true
    while (!this.closed && progress && this.active < global) {
      progress = false
      for (const clientId of [...this.ready.keys()]) {
        if (this.active >= global) break
        if ((this.activeByClient.get(clientId) ?? 0) >= perClient) continue
        const list = this.ready.get(clientId)
        const entry = list?.shift()
        if (list === undefined || entry === undefined) continue
        this.ready.delete(clientId)
        if (list.length > 0) this.ready.set(clientId, list) // to the back of the round
        this.waiting--
        this.startAttempt(entry)
        progress = true
      }
    }
  }

  private startAttempt (entry: Entry): void {
    const clientId = entry.event.clientId
    this.active++
    this.activeByClient.set(clientId, (this.activeByClient.get(clientId) ?? 0) + 1)
    entry.attempts++
    const running = this.run(entry).finally(() => { this.inFlight.delete(running) })
    this.inFlight.add(running)
  }

  private async run (entry: Entry): Promise<void> {
    let result: DeliveryResult
    try {
      result = await this.options.deliverer.attempt(entry.event, entry.attempts)
    } catch (err) {
      this.options.logger?.error({ eventId: entry.event.id, err }, 'callback attempt threw')
      result = { kind: 'retry', reason: 'internal error' }
    }
    const clientId = entry.event.clientId
    this.active--
    const left = (this.activeByClient.get(clientId) ?? 1) - 1
    if (left > 0) this.activeByClient.set(clientId, left)
    else this.activeByClient.delete(clientId)
    this.settle(entry, result)
    this.pump()
  }

  private settle (entry: Entry, result: DeliveryResult): void {
    const { event, attempts } = entry
    if (result.kind === 'skipped') {
      this.release(entry)
      this.observe(event, { attempt: attempts, result }, { kind: 'skipped', reason: result.reason, attempts })
      return
    }
    const decision = decideNext(result, attempts, this.config, {
      jitter: this.options.jitter ?? 'full',
      random: this.options.random,
      previousDelayMs: entry.previousDelayMs
    })
    if (decision.kind === 'delivered' && result.kind === 'delivered') {
      this.release(entry)
      this.delivered++
      this.observe(event, { attempt: attempts, result }, { kind: 'delivered', status: result.status, attempts })
    } else if (decision.kind === 'retry') {
      this.observe(event, { attempt: attempts, result, nextDelayMs: decision.delayMs })
      if (this.closed) return
      entry.previousDelayMs = decision.delayMs
      entry.timer = setTimeout(() => {
        this.delayed.delete(entry)
        entry.timer = undefined
        this.pushReady(entry)
        this.pump()
      }, decision.delayMs)
      this.delayed.add(entry)
    } else if (decision.kind === 'dead-letter') {
      this.release(entry)
      this.dead.add({ event, attempts, reason: decision.reason, failedAt: this.now() })
      const fields = { eventId: event.id, commandId: event.commandId, clientId: event.clientId, attempts, reason: decision.reason }
      this.options.logger?.warn(fields, 'callback dead-lettered')
      this.observe(event, { attempt: attempts, result }, { kind: 'dead-lettered', reason: decision.reason, attempts })
    }
  }

  private observe (event: CallbackEvent, report: AttemptReport | undefined, settled?: SettledResult): void {
    notifyObservers(this.options, event, report, settled)
  }
}
