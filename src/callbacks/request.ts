// Turns a callback event and the client's current config into the HTTP request the broker posts.
import { Webhook } from 'standardwebhooks'
import type { ClientConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { VERSION } from '../version.js'

/** The request for one attempt. `url` never carries userinfo (it moved to the Authorization header). */
export interface CallbackRequest {
  url: string
  /** `url`'s origin and path with query, when the builder already split them (saves a parse per attempt). */
  origin?: string
  path?: string
  headers: Record<string, string>
  body: string
}

/** Thrown when a client's callback settings cannot be used; the message never repeats the URL or secret. */
export class CallbackConfigError extends Error {
  override readonly name = 'CallbackConfigError'
  readonly code = 'HERMOD_CALLBACK_CONFIG_INVALID'
}

function decodeUserinfo (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** `hermod-broker/<version>`, the User-Agent of every callback. */
export const CALLBACK_USER_AGENT = `hermod-broker/${VERSION}`

/**
 * The target URL of a client's callback: `append` posts to `{callbackUrl}/callback/{type}` (a query
 * string is kept after the path), `exact` to callbackUrl itself. Userinfo is removed and returned apart.
 */
export function resolveCallbackUrl (client: ClientConfig, type: CallbackEvent['type']): { url: URL, userinfo?: string } {
  let url: URL
  try {
    url = new URL(client.callbackUrl ?? '')
  } catch {
    throw new CallbackConfigError(`callback URL of client ${client.clientId} is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CallbackConfigError(`callback URL of client ${client.clientId} is not http(s)`)
  }
  let userinfo: string | undefined
  if (url.username !== '' || url.password !== '') {
    userinfo = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`
    url.username = ''
    url.password = ''
  }
  url.hash = ''
  if (client.callbackMode !== 'exact') {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/callback/${type}`
  }
  return userinfo === undefined ? { url } : { url, userinfo }
}

/** A URL safe to log: no userinfo, no query string (either may carry a credential). */
export function loggableUrl (url: URL): string {
  return `${url.origin}${url.pathname}`
}

/**
 * The JSON body of a callback (protocol §7). Keys in a fixed order; `response` is the device's JSON
 * text inserted untouched; absent optional members are omitted.
 */
export function buildCallbackBody (event: CallbackEvent): string {
  const members: string[] = [
    `"commandId":${JSON.stringify(event.commandId)}`,
    `"commandType":${JSON.stringify(event.type.toUpperCase())}`,
    `"state":${JSON.stringify(event.state)}`
  ]
  if (event.externalId !== undefined) members.push(`"externalId":${JSON.stringify(event.externalId)}`)
  if (event.destination !== undefined) {
    const { to, bid, mid } = event.destination
    members.push(`"destination":${JSON.stringify({ to, bid, mid })}`)
  }
  if (event.response !== undefined) members.push(`"response":${event.response}`)
  members.push(`"createdAt":${JSON.stringify(new Date(event.createdAt).toISOString())}`)
  members.push(`"finishedAt":${JSON.stringify(new Date(event.finishedAt).toISOString())}`)
  return `{${members.join(',')}}`
}

/**
 * Builds one attempt's request from the event and the client's config as it is now: URL, Standard
 * Webhooks headers (id stable per event, timestamp and signature per attempt), Basic auth from
 * callbackBasicAuth or else from the URL's userinfo. Throws CallbackConfigError for an unusable URL or secret.
 */
export function buildCallbackRequest (event: CallbackEvent, client: ClientConfig, nowMs: number): CallbackRequest {
  const prepared = preparedClient(client)
  const target = prepared.target(event.type)
  const body = buildCallbackBody(event)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': CALLBACK_USER_AGENT,
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(nowMs / 1000))
  }
  const webhook = prepared.webhook()
  if (webhook !== undefined) headers['webhook-signature'] = webhook.sign(event.id, new Date(nowMs), body)
  if (target.authorization !== undefined) headers.authorization = target.authorization
  return { url: target.href, origin: target.origin, path: target.path, headers, body }
}

/** What every attempt to one client's callback URL for one command type shares. */
interface PreparedTarget {
  href: string
  origin: string
  path: string
  /** `url` without userinfo or query, for logs. */
  loggable: string
  authorization?: string
}

/**
 * The parsed form of a client's callback settings, built once per ClientConfig object (a reload
 * replaces the objects) instead of once per attempt. It remembers the fields it was built from and is
 * rebuilt when they differ, so a client object changed in place is still read as it is now.
 */
class PreparedClient {
  private readonly targets = new Map<string, PreparedTarget | CallbackConfigError>()
  private signer: Webhook | CallbackConfigError | undefined
  private signerBuilt = false
  readonly callbackUrl: string | undefined
  readonly callbackMode: ClientConfig['callbackMode']
  readonly callbackSecret: string | undefined
  readonly callbackBasicAuth: string | undefined

  constructor (private readonly client: ClientConfig) {
    this.callbackUrl = client.callbackUrl
    this.callbackMode = client.callbackMode
    this.callbackSecret = client.callbackSecret
    this.callbackBasicAuth = client.callbackBasicAuth
  }

  matches (client: ClientConfig): boolean {
    return client.callbackUrl === this.callbackUrl && client.callbackMode === this.callbackMode &&
      client.callbackSecret === this.callbackSecret && client.callbackBasicAuth === this.callbackBasicAuth
  }

  /** @throws CallbackConfigError for an unusable URL */
  target (type: CallbackEvent['type']): PreparedTarget {
    let target = this.targets.get(type)
    if (target === undefined) {
      try {
        const { url, userinfo } = resolveCallbackUrl(this.client, type)
        const basic = this.client.callbackBasicAuth ?? userinfo
        target = {
          href: url.href,
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          loggable: loggableUrl(url),
          ...(basic !== undefined && basic !== '' ? { authorization: `Basic ${Buffer.from(basic, 'utf8').toString('base64')}` } : {})
        }
      } catch (err) {
        if (!(err instanceof CallbackConfigError)) throw err
        target = err
      }
      this.targets.set(type, target)
    }
    if (target instanceof CallbackConfigError) throw target
    return target
  }

  /** @throws CallbackConfigError for a secret that is not a whsec_ base64 secret */
  webhook (): Webhook | undefined {
    if (!this.signerBuilt) {
      this.signerBuilt = true
      const secret = this.client.callbackSecret
      if (secret !== undefined && secret !== '') {
        try {
          this.signer = new Webhook(secret)
        } catch {
          this.signer = new CallbackConfigError(`callback secret of client ${this.client.clientId} is not a whsec_ base64 secret`)
        }
      }
    }
    if (this.signer instanceof CallbackConfigError) throw this.signer
    return this.signer
  }
}

const preparedClients = new WeakMap<ClientConfig, PreparedClient>()

function preparedClient (client: ClientConfig): PreparedClient {
  let entry = preparedClients.get(client)
  if (entry === undefined || !entry.matches(client)) {
    entry = new PreparedClient(client)
    preparedClients.set(client, entry)
  }
  return entry
}

/**
 * The loggable form of the URL an attempt for `type` goes to (no userinfo, no query), from the same
 * per-client cache as buildCallbackRequest. @throws CallbackConfigError for an unusable URL
 */
export function loggableCallbackUrl (client: ClientConfig, type: CallbackEvent['type']): string {
  return preparedClient(client).target(type).loggable
}
