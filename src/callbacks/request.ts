// Turns a callback event and the client's current config into the HTTP request the broker posts.
import { Webhook } from 'standardwebhooks'
import type { ClientConfig } from '../config/types.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { VERSION } from '../version.js'

/** The request for one attempt. `url` never carries userinfo (it moved to the Authorization header). */
export interface CallbackRequest {
  url: string
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
  const { url, userinfo } = resolveCallbackUrl(client, event.type)
  const body = buildCallbackBody(event)
  const timestamp = new Date(nowMs)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': CALLBACK_USER_AGENT,
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(nowMs / 1000))
  }
  if (client.callbackSecret !== undefined && client.callbackSecret !== '') {
    let webhook: Webhook
    try {
      webhook = new Webhook(client.callbackSecret)
    } catch {
      throw new CallbackConfigError(`callback secret of client ${client.clientId} is not a whsec_ base64 secret`)
    }
    headers['webhook-signature'] = webhook.sign(event.id, timestamp, body)
  }
  const basic = client.callbackBasicAuth ?? userinfo
  if (basic !== undefined && basic !== '') {
    headers.authorization = `Basic ${Buffer.from(basic, 'utf8').toString('base64')}`
  }
  return { url: url.href, headers, body }
}
