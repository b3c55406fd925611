// The callback delivery policy as pure functions: status classification, Retry-After, backoff, retry decision.
import type { CallbackConfig } from '../config/types.js'

/** What one delivery attempt came to, before any scheduling decision. */
export type AttemptOutcome =
  /** The target answered 2xx within the time budget. */
  | { kind: 'delivered', status: number }
  /** A transient failure (5xx, 408, 429, connection error, timeout); `retryAfterMs` is already capped. */
  | { kind: 'retry', reason: string, status?: number, retryAfterMs?: number }
  /** A failure no further attempt can fix (3xx, 4xx other than 408/429, unusable URL). */
  | { kind: 'give-up', reason: string, status?: number }

/** What the queue does after an attempt. */
export type RetryDecision =
  | { kind: 'delivered' }
  | { kind: 'retry', delayMs: number }
  | { kind: 'dead-letter', reason: string }

/**
 * `full`: uniform in [0, min(max, base * 2^(n-1))) (stateless; what a BullMQ backoff strategy can compute).
 * `decorrelated`: uniform in [base, previous * 3), capped at max (needs the previous delay).
 */
export type JitterMode = 'full' | 'decorrelated'

/** The part of CallbackConfig the policy reads. */
export type RetryPolicyConfig = Pick<CallbackConfig, 'attempts' | 'backoffBaseMs' | 'backoffMaxMs' | 'retryAfterMaxMs'>

/** Jitter mode and its inputs for backoffDelay / decideNext. */
export interface BackoffOptions {
  jitter?: JitterMode
  /** A number in [0, 1); Math.random by default. */
  random?: () => number
  /** The delay chosen before the previous attempt (decorrelated jitter only); backoffBaseMs when absent. */
  previousDelayMs?: number
}

/**
 * Parses a `Retry-After` value (RFC 9110 §10.2.3: delta-seconds or an HTTP-date) into milliseconds
 * from `nowMs`, uncapped. A date in the past gives 0; anything unparseable gives undefined.
 */
export function parseRetryAfter (value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (text === '') return undefined
  // delta-seconds = 1*DIGIT
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms (all of which Date.parse reads).
  if (!/^[A-Za-z]{3}/.test(text)) return undefined
  // asctime carries no zone but, like every HTTP-date, means GMT (Date.parse would read local time).
  const at = Date.parse(/\b(GMT|UTC)\b/i.test(text) ? text : `${text} GMT`)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

/**
 * Classifies an HTTP status (protocol §7): 2xx delivered; 3xx a failure, never followed (R14), and not
 * retried since the same request would get the same redirect; 408, 429 and 5xx retried, honouring
 * `Retry-After` up to `retryAfterMaxMs` (R13); every other status (410 and the other 4xx) ends delivery (R12).
 */
export function classifyStatus (status: number, retryAfter: string | undefined, nowMs: number, retryAfterMaxMs: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status }
  if (status >= 300 && status < 400) return { kind: 'give-up', reason: `HTTP ${status} (redirects are not followed)`, status }
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    const waitMs = parseRetryAfter(retryAfter, nowMs)
    if (waitMs === undefined) return { kind: 'retry', reason: `HTTP ${status}`, status }
    return { kind: 'retry', reason: `HTTP ${status}`, status, retryAfterMs: Math.min(waitMs, retryAfterMaxMs) }
  }
  return { kind: 'give-up', reason: `HTTP ${status}`, status }
}

/**
 * The delay before the attempt after attempt number `attemptsMade` (1 = the first attempt failed),
 * exponential from backoffBaseMs, capped at backoffMaxMs, with jitter.
 */
export function backoffDelay (attemptsMade: number, config: RetryPolicyConfig, options: BackoffOptions = {}): number {
  const random = options.random ?? Math.random
  const base = Math.max(0, config.backoffBaseMs)
  const cap = Math.max(base, config.backoffMaxMs)
  if (options.jitter === 'decorrelated') {
    const previous = Math.max(base, options.previousDelayMs ?? base)
    const upper = Math.min(cap, previous * 3)
    return Math.round(Math.min(cap, base + random() * (upper - base)))
  }
  const exponent = Math.min(Math.max(0, attemptsMade - 1), 52)
  const ceiling = Math.min(cap, base * 2 ** exponent)
  return Math.floor(random() * ceiling)
}

/**
 * Decides what follows an attempt: done, retry after a delay (the larger of the backoff and the
 * capped Retry-After), or dead letter once `config.attempts` attempts were made (R18) or the
 * outcome allows no retry (R12, R14).
 */
export function decideNext (
  outcome: AttemptOutcome, attemptsMade: number, config: RetryPolicyConfig, options: BackoffOptions = {}
): RetryDecision {
  if (outcome.kind === 'delivered') return { kind: 'delivered' }
  if (outcome.kind === 'give-up') return { kind: 'dead-letter', reason: outcome.reason }
  if (attemptsMade >= config.attempts) return { kind: 'dead-letter', reason: outcome.reason }
  const backoff = backoffDelay(attemptsMade, config, options)
  return { kind: 'retry', delayMs: Math.max(backoff, outcome.retryAfterMs ?? 0) }
}
