// The seam through which other features watch callback attempts (the dev delivery log): told, never awaited.
import type { CallbackEvent } from '../mailbox/types.js'
import type { AttemptOutcome } from './policy.js'
import type { CallbackRequest } from './request.js'

/** One attempt as the deliverer made it. The request still holds its secrets: observers mask what they keep. */
export interface DeliveryAttemptReport {
  event: CallbackEvent
  /** 1-based attempt number. */
  attempt: number
  /** The target without userinfo or query string (loggableCallbackUrl). */
  url: string
  /** The request as sent; absent when it could not be built (unusable URL or secret). */
  request?: CallbackRequest
  /** ms since the epoch (the deliverer's clock). */
  startedAt: number
  durationMs: number
  /** What came of it; failure reasons are already scrubbed of the client's secrets. */
  outcome: AttemptOutcome
}

/** Watches callback attempts. Must not throw and must not block: it runs on the delivery path. */
export interface DeliveryObserver {
  attempted (report: DeliveryAttemptReport): void
}
