// Load shedding on requests in flight and their queue time (R29): 503 HERMOD_OVERLOADED before latency runs away.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { errorBody } from './error-handler.js'

/** Why a request was shed; the label of hermod_requests_shed_total. */
export type ShedReason = 'in-flight' | 'queue-time' | 'event-loop' | 'heap' | 'rss'

export interface InFlightLimits {
  /** Requests in flight at once; 0: no limit. */
  maxInFlight: number
  /** When even the quickest request answered in the last window took longer than this, ms; 0: off. */
  maxQueueMs: number
}

/** The length of the window whose quickest request measures the queue time, ms. */
const WINDOW_MS = 100

/**
 * Counts the requests in flight and measures their queue time, CoDel style: the quickest request answered in
 * the last window. A standing queue (more work than the broker, or its Redis, can do) makes even the quickest
 * one slow; one slow request (a content provider taking its time) does not. `admit` refuses a request when the
 * count is at `maxInFlight`, or, while the queue time is over `maxQueueMs`, when an eighth of that is in flight:
 * the queue drains and the window keeps its samples. Works on a Redis-bound broker, whose event loop is idle.
 */
export class InFlightGauge {
  private inFlight = 0
  private windowEnd = 0
  private windowMin = Infinity
  private lastWindowMin = 0

  constructor (private readonly limits: InFlightLimits, private readonly now: () => number = () => performance.now()) {}

  /** Requests counted right now. */
  get size (): number { return this.inFlight }

  /** Whether the last window's quickest request was over `maxQueueMs`. */
  get queued (): boolean {
    this.roll(this.now())
    return this.limits.maxQueueMs > 0 && this.lastWindowMin > this.limits.maxQueueMs
  }

  /** Counts a request in and returns its start time, or says why it is refused. */
  admit (): number | Exclude<ShedReason, 'event-loop' | 'heap' | 'rss'> {
    const { maxInFlight } = this.limits
    if (maxInFlight > 0 && this.inFlight >= maxInFlight) return 'in-flight'
    if (this.queued && this.inFlight >= Math.max(1, Math.floor((maxInFlight > 0 ? maxInFlight : 512) / 8))) return 'queue-time'
    this.inFlight++
    return this.now()
  }

  /** Counts a request out; `startedAt` from admit, or undefined not to sample its time (a long poll that waited). */
  leave (startedAt: number | undefined): void {
    this.inFlight--
    if (startedAt === undefined) return
    const now = this.now()
    this.roll(now)
    this.windowMin = Math.min(this.windowMin, now - startedAt)
  }

  private roll (now: number): void {
    if (now < this.windowEnd) return
    // A window without answers keeps the previous reading (maxInFlight still bounds a stuck store); a second forgets it.
    if (this.windowMin !== Infinity) this.lastWindowMin = this.windowMin
    else if (now >= this.windowEnd + 10 * WINDOW_MS) this.lastWindowMin = 0
    this.windowMin = Infinity
    this.windowEnd = now + WINDOW_MS
  }
}

const tracked = Symbol('hermod.inFlight')
interface Tracked { startedAt: number | undefined, counted: boolean }
type TrackedRequest = FastifyRequest & { [tracked]?: Tracked }

/**
 * Stops counting `request` as in flight (a long poll about to wait: waiting costs nothing). Its answer later
 * is not counted again, nor its time sampled.
 */
export function releaseFromInFlight (request: FastifyRequest, gauge: InFlightGauge | undefined): void {
  const state = (request as TrackedRequest)[tracked]
  if (state === undefined || !state.counted || gauge === undefined) return
  state.counted = false
  gauge.leave(undefined)
}

/**
 * Logs at most one line per `intervalMs` about shed requests: the first shed at once, then a summary with
 * the counts by reason while shedding goes on. Counting every request is the metric's job.
 */
export class ShedSummary {
  private counts = new Map<ShedReason, number>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly logger: Logger | undefined, private readonly intervalMs = 10_000) {}

  shed (reason: ShedReason): void {
    if (this.timer === undefined) {
      this.logger?.warn({ reason }, 'overloaded: shedding requests with 503 HERMOD_OVERLOADED (hermod_requests_shed_total counts them)')
      this.schedule()
      return
    }
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1)
  }

  close (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule (): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.counts.size === 0) return
      const shed = Object.fromEntries(this.counts)
      this.counts = new Map()
      this.logger?.warn({ shed, seconds: this.intervalMs / 1000 }, 'overloaded: requests shed in the last interval')
      this.schedule()
    }, this.intervalMs).unref()
  }
}

/** The 503 every shed request gets; text, so that no route's own 503 schema reshapes it. */
export function sendOverloaded (reply: FastifyReply): FastifyReply {
  return reply.code(503).header('retry-after', '1').type('application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(503, 'HERMOD_OVERLOADED', 'The broker is overloaded; try again shortly')))
}

/**
 * Counts every request in flight from onRequest until its response closes (finished or aborted), and sheds
 * those `gauge` refuses. Routes with `config.inFlight: false` (health, metrics) are neither counted nor shed.
 */
export function registerInFlightShedding (app: FastifyInstance, gauge: InFlightGauge, onShed: (reason: ShedReason) => void): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.inFlight === false) return done()
    const admitted = gauge.admit()
    if (typeof admitted === 'string') {
      onShed(admitted)
      void sendOverloaded(reply)
      return
    }
    const state: Tracked = { startedAt: admitted, counted: true };
    (request as TrackedRequest)[tracked] = state
    reply.raw.once('close', () => {
      if (!state.counted) return
      state.counted = false
      gauge.leave(state.startedAt)
    })
    done()
  })
}
