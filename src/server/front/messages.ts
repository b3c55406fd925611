// The IPC messages between the front process and the broker process it forks (server.front-process, R29).
import type { ServerOptions } from 'node:https'

/** Set in the broker process's environment by the front: it serves the sockets handed to it, it does not listen. */
export const WORKER_ENV = 'HERMOD_FRONT_WORKER'

/** How often the broker process reports to the front, ms. */
export const BEAT_INTERVAL_MS = 50

/** Front -> broker process. */
export type ToWorker =
  /** The TLS material the front loaded (the same certificate on both sides), options as tlsOptionsToJson; null: plain HTTP. */
  | { t: 'tls', material: unknown }
  /** Sent with a socket: a connection to serve. */
  | { t: 'connection' }
  /** Requests the front answered itself since the last report (counted as hermod_requests_shed_total{reason="front"}). */
  | { t: 'shed', count: number }

/** Broker process -> front. */
export type ToFront =
  /** Started: serving handed sockets from now on. */
  | { t: 'ready' }
  /** Alive; `busy`: it shed requests since the last beat (or is shutting down): the front keeps new connections. */
  | { t: 'beat', busy: boolean }

/** The https options as JSON (Buffers, e.g. a PKCS#12 `pfx`, as base64), for the IPC channel. */
export function tlsOptionsToJson (options: ServerOptions | null): unknown {
  if (options === null) return null
  return Object.fromEntries(Object.entries(options).map(([key, value]) => [key, encode(value)]))
}

/** The inverse of tlsOptionsToJson. */
export function tlsOptionsFromJson (json: unknown): ServerOptions | null {
  if (json === null || typeof json !== 'object') return null
  return Object.fromEntries(Object.entries(json).map(([key, value]) => [key, decode(value)])) as ServerOptions
}

const encode = (value: unknown): unknown =>
  Buffer.isBuffer(value) ? { base64: value.toString('base64') } : Array.isArray(value) ? value.map(encode) : value

const decode = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decode)
  if (value !== null && typeof value === 'object' && typeof (value as { base64?: unknown }).base64 === 'string') {
    return Buffer.from((value as { base64: string }).base64, 'base64')
  }
  return value
}
