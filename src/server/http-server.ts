// The listening HTTP(S) server, constructed with the slow-client timeouts (R26) and the connection limits.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { BrokerConfig } from '../config/types.js'
import { ConnectionLimiter, refusalOf, type RefusalScope } from './connection-limit.js'
import { errorBody } from './error-handler.js'
import { gateRequests, sendRaw503, type InFlightGauge, type PressureCheck, type ShedReason } from './load-shedding.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

const TOO_MANY = {
  instance: JSON.stringify(errorBody(503, 'HERMOD_TOO_MANY_CONNECTIONS', 'The broker has too many open connections; try again shortly')),
  address: JSON.stringify(errorBody(503, 'HERMOD_TOO_MANY_CONNECTIONS', 'Too many open connections from this address; reuse one, or try again shortly'))
}

/** What the server needs besides its config: the load-shedding gate's parts and the refusal counter. */
export interface ServerHooks {
  gauge: InFlightGauge
  /** Path prefix neither counted nor shed (`{context-path}/actuator/`). */
  exempt: string
  pressure: PressureCheck
  onShed: (reason: ShedReason) => void
  onRefused: (scope: RefusalScope) => void
  /** How long a shed request's socket is not read, ms (broker.overload.shed-pause-ms). */
  pauseMs: number
  /** Requests one connection may have in flight (broker.overload.max-in-flight-per-connection); 0: no cap. */
  perConnection?: number
}

/** Node's server options for the `server.*` timeouts (R26), shared by the broker's server and the front's own answers. */
export function serverTimeoutOptions (t: BrokerConfig['server']['timeouts']): {
  headersTimeout: number, requestTimeout: number, keepAliveTimeout: number, connectionsCheckingInterval: number, requireHostHeader: false
} {
  return {
    headersTimeout: Math.min(t.headers, t.request),
    requestTimeout: t.request,
    keepAliveTimeout: t.keepAlive,
    connectionsCheckingInterval: t.checkingInterval,
    // Node would answer an HTTP/1.1 request without Host itself, with an empty 400: error-handler.ts answers it.
    requireHostHeader: false
  }
}

/**
 * Fastify's `serverFactory`: an http or https server with every timeout in its constructor options, so Node's
 * connection checker (every `checkingInterval`) applies them from the first socket on: headers must be complete
 * within `headers`, the whole request (body included) within `request` (a 408 HERMOD_REQUEST_TIMEOUT, then
 * the socket closes), a socket without traffic either way closes after `idle` (also one whose client stops
 * reading a response the socket's buffers cannot hold), a kept-alive one after `keepAlive` between requests (Node
 * counts a socket whose answers all went to the kernel as kept alive, read or not), a TLS handshake must finish within
 * `tlsHandshake`. None of them cuts a long poll: its request is complete when it starts waiting, and it
 * extends its socket's idle timeout by its wait (device-routes.ts). Requests reach Fastify through two raw checks:
 * a socket over a connection limit gets 503 HERMOD_TOO_MANY_CONNECTIONS and closes, an overloaded broker
 * answers 503 HERMOD_OVERLOADED (load-shedding.ts), both before any routing.
 */
export function brokerServerFactory (
  server: BrokerConfig['server'],
  https: HttpsOptions | undefined,
  hooks: ServerHooks
): { factory: (handler: Handler) => Server, limiter: ConnectionLimiter } {
  const limiter = new ConnectionLimiter(server.connections, hooks.onRefused)
  const t = server.timeouts
  const options = serverTimeoutOptions(t)
  const factory = (fastifyHandler: Handler): Server => {
    const gated = gateRequests(fastifyHandler, hooks)
    const handler: Handler = (request, response) => {
      const scope = refusalOf(request.socket)
      if (scope === undefined) gated(request, response)
      else sendRaw503(response, TOO_MANY[scope], true)
    }
    const created: Server = https === undefined
      ? createHttpServer(options, handler)
      : createHttpsServer({ ...https, ...options, handshakeTimeout: t.tlsHandshake }, handler)
    created.setTimeout(t.idle)
    limiter.attach(created, https !== undefined)
    return created
  }
  return { factory, limiter }
}
