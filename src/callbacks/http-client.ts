// The HTTP side of a callback attempt: one undici Agent, a total time budget, never a redirect.
import { rootCertificates } from 'node:tls'
import { Agent, type Dispatcher } from 'undici'
import { classifyStatus, type AttemptOutcome } from './policy.js'
import type { CallbackRequest } from './request.js'

export type { AttemptOutcome } from './policy.js'

/** How the shared HTTP client connects, trusts and times out. */
export interface CallbackHttpClientOptions {
  /** One attempt's budget up to the response status and headers (connect included), ms. */
  timeoutMs: number
  /** Longest the response body is read (and dropped) after the headers, ms; default min(timeoutMs, 1 s). */
  bodyReadMs?: number
  /** Longest `Retry-After` honoured, ms. */
  retryAfterMaxMs: number
  /** Connections kept per origin (keep-alive); requests beyond it wait in the pool. */
  connectionsPerOrigin: number
  /** Extra trusted CAs (PEM), added to Node's bundled roots. */
  extraCa?: readonly string[]
  /** Turn TLS verification off (the caller logs the warning). */
  insecureSkipVerify?: boolean
  /** Clock for HTTP-date Retry-After values. */
  now?: () => number
}

/** Bytes of a response body read (and dropped) before the connection is cut instead. */
const MAX_DRAINED_BYTES = 64 * 1024

/** Longest a response body is read after the headers, unless the budget is smaller. */
const BODY_READ_MAX_MS = 1_000

const TLS_ERROR = /CERT|SELF_SIGNED|SSL|TLS|UNABLE_TO_(GET|VERIFY)|ALTNAME/

class AttemptTimeout extends Error {}

type Listener = () => void

/**
 * An attempt's time budget as the abort signal undici takes (it accepts an EventEmitter-like
 * `on`/`once`/`removeListener` object): an AbortController and its EventTarget cost several
 * allocations and microseconds per attempt, this one object.
 */
class AttemptDeadline {
  aborted = false
  reason: unknown = undefined
  private listeners: Listener[] | undefined

  on (_event: 'abort', listener: Listener): this {
    (this.listeners ??= []).push(listener)
    return this
  }

  once (event: 'abort', listener: Listener): this {
    return this.on(event, listener)
  }

  removeListener (_event: 'abort', listener: Listener): this {
    const listeners = this.listeners
    if (listeners !== undefined) {
      const i = listeners.indexOf(listener)
      if (i >= 0) listeners.splice(i, 1)
    }
    return this
  }

  abort (reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.listeners
    this.listeners = undefined
    for (const listener of listeners ?? []) listener()
  }
}

/** A short reason for a failed connection or stream, without the request's URL or headers. */
export function errorReason (err: unknown): string {
  const error = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined
  const code = typeof error?.code === 'string' ? error.code : undefined
  const message = typeof error?.message === 'string' ? error.message.replace(/\s+/g, ' ').slice(0, 160) : ''
  if (code === undefined) {
    if (error?.cause !== undefined && error.cause !== err) return errorReason(error.cause)
    return message === '' ? 'request failed' : message
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timeout'
  if (TLS_ERROR.test(code)) return message === '' ? `TLS ${code}` : `TLS ${code}: ${message}`
  if (message === '') return code
  return message.includes(code) ? message : `${code}: ${message}`
}

/** Sends callback requests and classifies what came back. Share one per process. */
export class CallbackHttpClient {
  private readonly agent: Agent
  private readonly timeoutMs: number
  private readonly bodyReadMs: number
  private readonly retryAfterMaxMs: number
  private readonly now: () => number

  constructor (options: CallbackHttpClientOptions) {
    this.timeoutMs = options.timeoutMs
    this.bodyReadMs = Math.max(1, options.bodyReadMs ?? Math.min(options.timeoutMs, BODY_READ_MAX_MS))
    this.retryAfterMaxMs = options.retryAfterMaxMs
    this.now = options.now ?? Date.now
    const extraCa = options.extraCa ?? []
    this.agent = new Agent({
      connections: Math.max(1, options.connectionsPerOrigin),
      pipelining: 1,
      keepAliveTimeout: 4_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: this.bodyReadMs,
      connect: {
        timeout: Math.min(options.timeoutMs, 10_000),
        rejectUnauthorized: options.insecureSkipVerify !== true,
        // Setting `ca` replaces Node's default store, so the bundled roots go along; left unset,
        // Node's defaults (NODE_EXTRA_CA_CERTS included) apply.
        ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {})
      }
    })
  }

  /**
   * Posts the request once. Resolves (never rejects) with the classified outcome: a target whose status
   * and headers do not arrive within timeoutMs is a `retry` with reason `timeout`. The status decides:
   * the body is only read to keep the connection reusable, at most MAX_DRAINED_BYTES for at most
   * bodyReadMs, then the connection is cut; a slow or endless body never turns a 2xx into a retry.
   */
  async send (request: CallbackRequest): Promise<AttemptOutcome> {
    let origin = request.origin
    let path = request.path
    if (origin === undefined || path === undefined) {
      try {
        const url = new URL(request.url)
        origin = url.origin
        path = `${url.pathname}${url.search}`
      } catch {
        return { kind: 'give-up', reason: 'invalid callback URL' }
      }
    }
    const deadline = new AttemptDeadline()
    const timer = setTimeout(() => deadline.abort(new AttemptTimeout()), this.timeoutMs)
    try {
      const response = await this.agent.request({
        origin,
        path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: deadline
      })
      clearTimeout(timer) // the status is in: the attempt's deadline no longer applies
      await this.discardBody(response.body)
      const retryAfter = response.headers['retry-after']
      return classifyStatus(
        response.statusCode,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        this.now(),
        this.retryAfterMaxMs
      )
    } catch (err) {
      if (deadline.aborted || isTimeout(err)) {
        return { kind: 'retry', reason: `timeout after ${this.timeoutMs} ms` }
      }
      return { kind: 'retry', reason: errorReason(err) }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Reads and drops a response body: at most MAX_DRAINED_BYTES, for at most bodyReadMs; past either the connection is cut. */
  private async discardBody (body: Dispatcher.ResponseData['body']): Promise<void> {
    const cut = setTimeout(() => { body.destroy() }, this.bodyReadMs)
    try {
      // dump() destroys the stream past the limit and resolves once it is closed, either way.
      await body.dump({ limit: MAX_DRAINED_BYTES })
    } catch {
      // A body cut short or failing after the status changes nothing: the status was received.
    } finally {
      clearTimeout(cut)
    }
  }

  /** Closes idle connections and waits for requests in flight, at most `graceMs`, then cuts them. */
  async close (graceMs = 1_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const closed = this.agent.close()
    const late = new Promise<'late'>(resolve => { timer = setTimeout(() => resolve('late'), graceMs) })
    try {
      if (await Promise.race([closed.then(() => 'closed' as const), late]) === 'late') await this.agent.destroy()
    } finally {
      clearTimeout(timer)
    }
  }
}

function isTimeout (err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return err instanceof AttemptTimeout || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
}
