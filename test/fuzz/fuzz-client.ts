// Sends a FuzzRequest to a listening broker and lists what is wrong with the answer, measured against the OpenAPI document.
import { Ajv } from 'ajv'
import { Pool } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { KEYS } from '../helpers/config.js'
import type { Operation, Schema } from './openapi-operations.js'
import type { FuzzRequest, ParamValue } from './request-arbitraries.js'

/** The broker.admin credentials of the fuzzed broker (the admin routes then need Basic auth, also from loopback). */
export const ADMIN = { username: 'ops', password: 'fuzz-admin-password' }

/** Longest a request may take; the long polls the fuzzer sends wait at most 1 s. */
export const REQUEST_TIMEOUT_MS = 5000

/** Ids the broker handed out (commands accepted, their destinations), which `known` parameter values take. */
export class KnownIds {
  readonly commandIds: string[] = []
  readonly destinations: Array<{ bid: string, mid: string, token: string }> = []

  /** Takes note of the ids in an accepted command (POST /command/{type} 200). */
  learn (accepted: { commandId?: unknown, destinations?: Array<{ bid: string, mid: string, uri: string }> }): void {
    if (typeof accepted.commandId !== 'string') return
    this.commandIds.push(accepted.commandId)
    for (const d of accepted.destinations ?? []) {
      this.destinations.push({ bid: d.bid, mid: d.mid, token: new URL(d.uri).searchParams.get('token') ?? '' })
    }
  }

  /** One of the 8 newest ids of `name` (older ones are more likely decided, timed out or reset away). */
  value (name: string, pick: number): string {
    const newest = <T>(list: T[]): T | undefined => list[list.length - 1 - (pick % Math.min(8, Math.max(1, list.length)))]
    const destination = newest(this.destinations)
    switch (name) {
      case 'commandId': return newest(this.commandIds) ?? '1'
      case 'bid': case 'mid': case 'token': return destination?.[name] ?? '00000000-0000-4000-8000-000000000000'
      case 'clientId': return ['prime', 'hag', 'new-client-7', 'x'][pick % 4]!
      case 'profile': return 'default'
      default: return String(pick)
    }
  }
}

/** Percent-encodes every byte but RFC 3986 unreserved ones (UTF-8; a lone surrogate becomes U+FFFD). */
const encode = (text: string): string => [...Buffer.from(text, 'utf8')]
  .map((b) => /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')

const resolve = (value: ParamValue, name: string, request: FuzzRequest, known: KnownIds): string =>
  value === 'known' ? encode(known.value(name, request.pick)) : 'raw' in value ? encode(value.raw) : value.verbatim

export interface HttpRequest { method: string, path: string, headers: Record<string, string>, body?: string }

/** The HTTP request `request` stands for, its `known` values taken from `known` now. */
export function toHttp (request: FuzzRequest, operation: Operation, known: KnownIds): HttpRequest {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) => resolve(request.path[name] ?? { raw: 'x' }, name, request, known))
  const query = request.query.map(([name, value]) => `${encode(name)}=${resolve(value, name, request, known)}`).join('&')
  const headers: Record<string, string> = { ...request.headers }
  if (request.apiKey !== 'none') {
    headers['x-api-key'] = typeof request.apiKey === 'string' ? apiKeyHeader(request.apiKey, KEYS[request.apiKey]) : request.apiKey.invalid
  }
  if (request.authorization !== undefined) {
    headers.authorization = request.authorization === 'admin'
      ? `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`
      : request.authorization.raw
  }
  if (request.body?.contentType !== undefined) headers['content-type'] = request.body.contentType
  return { method: operation.method, path: query === '' ? path : `${path}?${query}`, headers, ...(request.body === undefined ? {} : { body: request.body.text }) }
}

export interface HttpAnswer { status: number, contentType: string, text: string }

/** Sends on `pool`; rejects when the answer takes longer than REQUEST_TIMEOUT_MS. */
export async function send (pool: Pool, request: HttpRequest): Promise<HttpAnswer> {
  const res = await pool.request({
    method: request.method as 'GET',
    path: request.path,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  })
  const contentType = String(res.headers['content-type'] ?? '')
  // An event stream (the console feed) never ends: its status and media type are the answer.
  if (contentType.startsWith('text/event-stream')) {
    res.body.destroy()
    return { status: res.statusCode, contentType, text: '' }
  }
  return { status: res.statusCode, contentType, text: await res.body.text() }
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false })
const validators = new Map<Schema, ReturnType<Ajv['compile']>>()
const ERROR_KEYS = new Set(['statusCode', 'code', 'error', 'message', 'details'])

/** What is wrong with `answer` to `request` on `operation`: an empty list when it is as the document says. */
export function problemsOf (operation: Operation, request: HttpRequest, answer: HttpAnswer): string[] {
  const problems: string[] = []
  const { status } = answer
  if (status >= 500) problems.push(`a ${status}`)
  const documented = operation.responses.get(status)
  if (documented === undefined) problems.push(`status ${status} is not in the document (${[...operation.responses.keys()].join(', ')})`)
  const media = answer.contentType.split(';')[0]!.trim()
  const schema = documented?.get(media)
  if (documented !== undefined && documented.size > 0 && schema === undefined) problems.push(`${status} as ${media}: the document lists ${[...documented.keys()].join(', ')}`)
  let body: any
  if (media === 'application/json') {
    try { body = JSON.parse(answer.text) } catch { problems.push(`${status}: the JSON body does not parse`) }
  }
  if (status >= 400) {
    if (typeof body?.code !== 'string' || !/^HERMOD_[A-Z_]+$/.test(body.code)) problems.push(`${status}: no HERMOD_* code (${answer.text.slice(0, 120)})`)
    const named = operation.codes.get(status)
    if (named !== undefined && typeof body?.code === 'string' && !named.has(body.code)) {
      problems.push(`${status} ${String(body.code)}: the document's ${status} names ${[...named].join(', ') || 'no code'}`)
    }
    if (body?.statusCode !== status) problems.push(`${status}: statusCode ${String(body?.statusCode)} in the body`)
    for (const key of Object.keys(body ?? {})) if (!ERROR_KEYS.has(key)) problems.push(`${status}: unexpected member ${key}`)
  }
  if (schema !== undefined && body !== undefined) {
    let validate = validators.get(schema)
    if (validate === undefined) validators.set(schema, validate = ajv.compile(schema))
    if (!validate(body)) problems.push(`${status}: the body does not match the documented schema: ${ajv.errorsText(validate.errors)}`)
  }
  // generateclient prints a fresh X-Api-Key, which may begin like the one sent (base64 of the same client id).
  const key = request.headers['x-api-key']
  if (key !== undefined && key.length >= 12 && operation.operationId !== 'generateClient' && answer.text.includes(key)) problems.push('the X-Api-Key is echoed')
  if (answer.text.includes(ADMIN.password)) problems.push('the admin password is echoed')
  return problems
}
