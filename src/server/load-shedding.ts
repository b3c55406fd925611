// Load shedding on requests in flight and their queue time (R29): 503 HERMOD_OVERLOADED before latency runs away.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { errorBody } from './error-handler.js'

/** Why a request was shed; the label of hermod_requests_shed_total (`front`: answered by the front process, server/front/). */
export type ShedReason = 'in-flight' | 'queue-time' | 'event-loop' | 'heap' | 'rss' | 'front' | 'connection'

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
  private lastSampleAt = 0

  constructor (private readonly limits: InFlightLimits, private readonly now: () => number = () => performance.now()) {}

  /** Requests counted right now. */
  get size (): number { return this.inFlight }

  /** Whether the last window's quickest request was over `maxQueueMs`. */
  get queued (): boolean {
    this.roll(this.now())
    return this.limits.maxQueueMs > 0 && this.lastWindowMin > this.limits.maxQueueMs
  }

  /** Counts a request in and returns its start time, or says why it is refused. */
  admit (): number | Exclude<ShedReason, 'event-loop' | 'heap' | 'rss' | 'front'> {
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
    this.lastSampleAt = now
  }

  private roll (now: number): void {
    if (now < this.windowEnd) return
    // A window without answers keeps the previous reading (maxInFlight still bounds a stuck store); a second
    // without any answer forgets it.
    if (this.windowMin !== Infinity) this.lastWindowMin = this.windowMin
    else if (now - this.lastSampleAt >= 10 * WINDOW_MS) this.lastWindowMin = 0
    this.windowMin = Infinity
    this.windowEnd = now + WINDOW_MS
  }
}

const tracked = Symbol('hermod.inFlight')
interface Tracked { startedAt: number | undefined, counted: boolean }
type TrackedMessage = IncomingMessage & { [tracked]?: Tracked }

/**
 * Stops counting `request` as in flight (a long poll about to wait: waiting costs nothing). Its answer later
 * is not counted again, nor its time sampled.
 */
export function releaseFromInFlight (request: FastifyRequest, gauge: InFlightGauge | undefined): void {
  const state = (request.raw as TrackedMessage)[tracked]
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

/** The body every shed request gets. */
export const OVERLOADED_JSON = JSON.stringify(errorBody(503, 'HERMOD_OVERLOADED', 'The broker is overloaded; try again shortly'))

/** A 503 with `json` and Retry-After: 1, written straight on the raw response (no routing, no hooks). */
export function sendRaw503 (response: ServerResponse, json: string, close = false): void {
  response.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'retry-after': '1',
    ...(close ? { connection: 'close' } : {})
  })
  response.end(json)
}

const pausedUntil = Symbol('hermod.pausedUntil')
const onSocket = Symbol('hermod.requestsInFlight')
type CountedSocket = Socket & { [onSocket]?: number }
type PausableSocket = Socket & { [pausedUntil]?: number, _paused?: boolean }

/**
 * Stops reading from `socket` for `ms` and a random part of it (up to half: paused sockets do not all resume
 * in the same event-loop turn) after a shed answer: its client is told to come back after Retry-After,
 * and a client that pipelines or resends at once (an attack) is made to. Every request it already sent is
 * still answered, later; while it is paused the event loop serves the others and new connections. Node's own
 * back-pressure pause (`_paused`) is left alone.
 */
export function pauseSocket (socket: Socket | undefined, ms: number): void {
  const s = socket as PausableSocket | undefined
  if (s === undefined || ms <= 0 || s.destroyed || s[pausedUntil] !== undefined) return
  const pause = ms + Math.floor(Math.random() * ms / 2)
  s[pausedUntil] = Date.now() + pause
  s.pause()
  setTimeout(() => {
    s[pausedUntil] = undefined
    if (!s.destroyed && s._paused !== true) s.resume()
  }, pause).unref()
}

/** What the request gate asks besides the in-flight gauge: under-pressure's signals, once the app has them. */
export type PressureCheck = () => ShedReason | undefined

/**
 * Wraps the server's request handler (Fastify's) so that overload is answered before any routing or hook runs:
 * the cheapest 503 there is, so that shedding does not itself eat the CPU it should free. Paths under `exempt`
 * (`{context-path}/actuator/`: health and metrics) are neither counted nor shed here. Every other request is
 * counted in flight from here until its response closes (finished or aborted). A shed request's socket is
 * paused for `pauseMs` (pauseSocket).
 */
export function gateRequests (
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  options: {
    gauge: InFlightGauge,
    exempt: string,
    pressure: PressureCheck,
    onShed: (reason: ShedReason) => void,
    pauseMs: number
    /** Requests one connection may have in flight (pipelined); past it that connection alone is shed (`connection`). 0: no cap. */
    perConnection?: number
  }
): (request: IncomingMessage, response: ServerResponse) => void {
  const { gauge, exempt, pressure, onShed, pauseMs } = options
  const perConnection = options.perConnection ?? 0
  return (request, response) => {
    if (request.url?.startsWith(exempt) === true) return handler(request, response)
    // One client pipelining hundreds of requests must not use up the instance's in-flight budget and get every other client shed.
    const socket = request.socket as CountedSocket
    if (perConnection > 0 && (socket[onSocket] ?? 0) >= perConnection) {
      onShed('connection')
      sendRaw503(response, OVERLOADED_JSON)
      pauseSocket(socket, pauseMs)
      return
    }
    socket[onSocket] = (socket[onSocket] ?? 0) + 1
    response.once('close', () => { socket[onSocket] = (socket[onSocket] ?? 1) - 1 })
    const reason = pressure() ?? gauge.admit()
    if (typeof reason === 'string') {
      onShed(reason)
      sendRaw503(response, OVERLOADED_JSON)
      pauseSocket(request.socket, pauseMs)
      return
    }
    const state: Tracked = { startedAt: reason, counted: true };
    (request as TrackedMessage)[tracked] = state
    // A response always closes, also one queued behind pipelined requests when its socket dies (tested).
    response.once('close', () => {
      if (!state.counted) return
      state.counted = false
      gauge.leave(state.startedAt)
    })
    handler(request, response)
  }
}
