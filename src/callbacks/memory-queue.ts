// The in-process callback queue of the embedded store: timers, fair per-client concurrency, dead letters.
import type { Logger } from 'pino'
import type { CallbackConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import type { CallbackDeliverer, DeliveryResult } from './deliverer.js'
import { decideNext, type JitterMode } from './policy.js'
import type { CallbackQueue, CallbackQueueStats, DeadLetter } from './queue.js'

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
}

/**
 * CallbackQueue for one process (nothing survives a restart, like the embedded store). Ready events
 * wait in one FIFO per client, served round-robin, so a client at its perClientConcurrency limit
 * (say, a target that hangs) never holds a global slot another client could use (R15).
 */
export class MemoryCallbackQueue implements CallbackQueue {
  private readonly options: MemoryCallbackQueueOptions
  private readonly config: CallbackConfig
  private readonly now: () => number
  private readonly rememberedMax: number
  /** Every event queued, delayed or in flight, by id. */
  private readonly entries = new Map<string, Entry>()
  /** Ready events per client; Map order is the round-robin order. */
  private readonly ready = new Map<string, Entry[]>()
  private readonly activeByClient = new Map<string, number>()
  private readonly delayed = new Set<Entry>()
  private readonly inFlight = new Set<Promise<void>>()
  /** Ids seen recently (insertion order, oldest evicted first). */
  private readonly seen = new Set<string>()
  private readonly dead = new Map<string, DeadLetter>()
  private waiting = 0
  private active = 0
  private delivered = 0
  private closed = false

  constructor (options: MemoryCallbackQueueOptions) {
    this.options = options
    this.config = options.config
    this.now = options.now ?? Date.now
    this.rememberedMax = Math.max(1, options.rememberedIds ?? 100_000)
  }

  async enqueue (events: CallbackEvent[]): Promise<void> {
    if (this.closed) throw new Error('callback queue is closed')
    for (const event of events) {
      if (this.seen.has(event.id) || this.entries.has(event.id) || this.dead.has(event.id)) continue
      this.remember(event.id)
      const entry: Entry = { event, attempts: 0 }
      this.entries.set(event.id, entry)
      this.pushReady(entry)
    }
    this.pump()
  }

  async deadLetters (limit = 100): Promise<DeadLetter[]> {
    return [...this.dead.values()].reverse().slice(0, Math.max(0, limit))
  }

  async replay (eventId: string): Promise<boolean> {
    if (this.closed) throw new Error('callback queue is closed')
    const letter = this.dead.get(eventId)
    if (letter === undefined) return false
    this.dead.delete(eventId)
    const entry: Entry = { event: letter.event, attempts: 0 }
    this.entries.set(eventId, entry)
    this.pushReady(entry)
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
      this.entries.delete(event.id)
      this.observe(event, { attempt: attempts, result }, { kind: 'skipped', reason: result.reason, attempts })
      return
    }
    const decision = decideNext(result, attempts, this.config, {
      jitter: this.options.jitter ?? 'full',
      random: this.options.random,
      previousDelayMs: entry.previousDelayMs
    })
    if (decision.kind === 'delivered' && result.kind === 'delivered') {
      this.entries.delete(event.id)
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
      this.entries.delete(event.id)
      this.addDeadLetter({ event, attempts, reason: decision.reason, failedAt: this.now() })
      this.options.logger?.warn({ eventId: event.id, commandId: event.commandId, clientId: event.clientId, attempts, reason: decision.reason },
        'callback dead-lettered')
      this.observe(event, { attempt: attempts, result }, { kind: 'dead-lettered', reason: decision.reason, attempts })
    }
  }

  private addDeadLetter (letter: DeadLetter): void {
    this.dead.set(letter.event.id, letter)
    const max = Math.max(1, this.config.deadLetterMax)
    while (this.dead.size > max) {
      const oldest = this.dead.keys().next()
      if (oldest.done === true) break
      this.dead.delete(oldest.value)
      this.options.logger?.warn({ eventId: oldest.value }, 'oldest dead letter dropped (deadLetterMax reached)')
    }
  }

  private observe (event: CallbackEvent, report: AttemptReport, settled?: SettledResult): void {
    try {
      this.options.onAttempt?.(event, report)
      if (settled !== undefined) this.options.onSettled?.(event, settled)
    } catch (err) {
      this.options.logger?.error({ eventId: event.id, err }, 'callback queue observer threw')
    }
  }
}
