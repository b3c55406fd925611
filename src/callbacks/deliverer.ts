// One callback attempt end to end: current client config, request, HTTP, logging. Shared by every queue driver.
import type { Logger } from 'pino'
import type { ClientRegistry } from '../auth/clients.js'
import type { CallbackConfig, ClientConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import type { DeliveryObserver } from './delivery-observer.js'
import { CallbackHttpClient } from './http-client.js'
import type { AttemptOutcome } from './policy.js'
import { buildCallbackRequest, CallbackConfigError, loggableCallbackUrl, type CallbackRequest } from './request.js'
import { loadTrustStore } from './trust-store.js'

/** An attempt's result; `skipped` means no callback is owed any more (unknown client, no callback URL). */
export type DeliveryResult = AttemptOutcome | { kind: 'skipped', reason: string }

/** What a deliverer reads: the live client registry, the callback settings, where to log. */
export interface CallbackDelivererOptions {
  clients: ClientRegistry
  config: CallbackConfig
  logger: Logger
  /** CAs trusted besides the system roots and config.trustStore (PEM), e.g. the broker's own dev certificate. */
  extraCa?: string[]
  now?: () => number
  /** Told of every attempt made (the dev delivery log). */
  observer?: DeliveryObserver
}

/** Skip reasons already logged, so a client without callbacks does not log once per command. */
const MAX_REMEMBERED_SKIPS = 10_000

/** Strings of a client's config that must never reach a log line or a dead letter's reason. */
function secretsOf (client: ClientConfig): string[] {
  const found = [client.key, client.callbackSecret, client.callbackBasicAuth]
  if (client.callbackBasicAuth !== undefined) {
    found.push(client.callbackBasicAuth.slice(client.callbackBasicAuth.indexOf(':') + 1))
    found.push(Buffer.from(client.callbackBasicAuth).toString('base64'))
  }
  try {
    const url = new URL(client.callbackUrl ?? '')
    found.push(url.password, decodeURIComponentSafe(url.password), url.search)
  } catch {}
  return found.filter((s): s is string => s !== undefined && s.length >= 4)
}

function idsOf (event: CallbackEvent, attempt: number): { eventId: string, commandId: string, clientId: string, attempt: number } {
  return { eventId: event.id, commandId: event.commandId, clientId: event.clientId, attempt }
}

function decodeURIComponentSafe (text: string): string {
  try { return decodeURIComponent(text) } catch { return text }
}

function scrub (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('[redacted]')
  return out
}

/**
 * Delivers callback events, one attempt per call. The client's URL, Basic auth and signing secret are
 * read from the registry at send time; nothing secret is kept with the event. Retry decisions are not
 * made here (see policy.ts) and scheduling belongs to the queue driver.
 */
export class CallbackDeliverer {
  private readonly clients: ClientRegistry
  private readonly logger: Logger
  private readonly now: () => number
  private readonly http: CallbackHttpClient
  private readonly loggedSkips = new Set<string>()
  private readonly observer: DeliveryObserver | undefined

  constructor (options: CallbackDelivererOptions) {
    const { config } = options
    this.clients = options.clients
    this.logger = options.logger
    this.now = options.now ?? Date.now
    this.observer = options.observer
    const extraCa = [...(options.extraCa ?? [])]
    if (config.trustStore !== undefined) {
      const loaded = loadTrustStore(config.trustStore, config.trustStorePassword)
      extraCa.push(...loaded)
      this.logger.info({ trustStore: config.trustStore, certificates: loaded.length }, 'callback trust store loaded')
    }
    if (config.insecureSkipVerify) {
      this.logger.warn('TLS verification of callback targets is OFF (callbacks.insecureSkipVerify): use for development only')
    }
    this.http = new CallbackHttpClient({
      timeoutMs: config.timeoutMs,
      retryAfterMaxMs: config.retryAfterMaxMs,
      connectionsPerOrigin: Math.max(1, config.concurrency),
      extraCa,
      insecureSkipVerify: config.insecureSkipVerify,
      now: this.now
    })
  }

  /**
   * Makes attempt number `attemptNumber` (1-based, for logs) to deliver `event`. Never rejects.
   * Logs the attempt and a success at debug, a failure at warn; never the body, key, password or secret.
   */
  async attempt (event: CallbackEvent, attemptNumber = 1): Promise<DeliveryResult> {
    const client = this.clients.get(event.clientId)
    if (client === undefined) return this.skip(event, 'unknown client')
    if (client.callbackUrl === undefined || client.callbackUrl === '') return this.skip(event, 'client has no callback URL')
    const debug = this.logger.isLevelEnabled('debug')
    let url = '(invalid)'
    let outcome: AttemptOutcome
    let request: CallbackRequest | undefined
    const started = this.now()
    try {
      url = loggableCallbackUrl(client, event.type)
      if (debug) this.logger.debug({ ...idsOf(event, attemptNumber), url }, 'callback attempt')
      request = buildCallbackRequest(event, client, started)
      outcome = await this.http.send(request)
    } catch (err) {
      const reason = err instanceof CallbackConfigError ? err.message : 'callback request could not be built'
      outcome = { kind: 'give-up', reason }
    }
    // Only failures carry text from outside (error messages): scrub the client's secrets out of it.
    if (outcome.kind !== 'delivered') outcome = { ...outcome, reason: scrub(outcome.reason, secretsOf(client)) }
    this.observer?.attempted({
      event,
      attempt: attemptNumber,
      url,
      ...(request === undefined ? {} : { request }),
      startedAt: started,
      durationMs: this.now() - started,
      outcome
    })
    if (outcome.kind === 'delivered') {
      if (debug) this.logger.debug({ ...idsOf(event, attemptNumber), url, status: outcome.status, durationMs: this.now() - started }, 'callback delivered')
      return outcome
    }
    const retryAfterMs = outcome.kind === 'retry' ? outcome.retryAfterMs : undefined
    this.logger.warn({ ...idsOf(event, attemptNumber), url, status: outcome.status, reason: outcome.reason, retryable: outcome.kind === 'retry', retryAfterMs, durationMs: this.now() - started },
      'callback attempt failed')
    return outcome
  }

  /** Closes the HTTP agent (after the queue stopped making attempts). */
  async close (): Promise<void> {
    await this.http.close()
  }

  private skip (event: CallbackEvent, reason: string): DeliveryResult {
    const key = `${event.clientId}\u0000${reason}`
    if (!this.loggedSkips.has(key)) {
      if (this.loggedSkips.size >= MAX_REMEMBERED_SKIPS) this.loggedSkips.clear()
      this.loggedSkips.add(key)
      this.logger.info({ eventId: event.id, commandId: event.commandId, clientId: event.clientId, reason },
        'callback skipped (logged once per client and reason)')
    }
    return { kind: 'skipped', reason }
  }
}
