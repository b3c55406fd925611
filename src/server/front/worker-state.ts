// What the front knows of the broker process: its heartbeats, and the sockets waiting to be handed to it (R29).
import { BEAT_INTERVAL_MS } from './messages.js'

/**
 * A broker process that has not reported for this long is too busy for new connections, ms: as long as the
 * event-loop delay that sheds (broker.overload.max-event-loop-delay-ms' default), so a loop that is merely slow
 * for a moment (a burst of handshakes, a GC pause) does not have the front refuse connections.
 */
export const STALE_AFTER_MS = 20 * BEAT_INTERVAL_MS

/** A broker process that has not reported for this long is not alive: the front's liveness says 503, ms. */
export const NOT_ALIVE_AFTER_MS = 10_000

/**
 * Sockets handed over but not yet written to the IPC channel at most. Node passes one handle per round trip
 * (the receiver's ACK comes from its event loop), so a queue here waits for the broker's event loop.
 */
export const MAX_QUEUED_HANDOVERS = 256

/**
 * Whether a new connection goes to the broker process: only while it reports on time (its event loop turns
 * quickly), has not shed requests for `holdMs` (a busy broker keeps its connections, the new ones are answered
 * by the front), and the handover queue is short.
 */
export class WorkerState {
  private lastBeatAt = -Infinity
  private busyUntil = -Infinity
  /** Sockets whose handover is not written yet. */
  queued = 0

  constructor (private readonly holdMs: number, private readonly now: () => number = () => performance.now()) {}

  beat (busy: boolean): void {
    const now = this.now()
    this.lastBeatAt = now
    if (busy) this.busyUntil = now + this.holdMs
  }

  /** A new connection may be handed to the broker process now. */
  takesConnections (): boolean {
    const now = this.now()
    return now - this.lastBeatAt <= STALE_AFTER_MS && now >= this.busyUntil && this.queued < MAX_QUEUED_HANDOVERS
  }

  alive (): boolean {
    return this.now() - this.lastBeatAt <= NOT_ALIVE_AFTER_MS
  }
}
