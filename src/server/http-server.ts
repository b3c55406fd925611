// The listening HTTP(S) server, constructed with the slow-client timeouts (R26) and the connection limits.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { BrokerConfig } from '../config/types.js'
import { ConnectionLimiter, type RefusalScope } from './connection-limit.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/**
 * Fastify's `serverFactory`: an http or https server with every timeout in its constructor options, so Node's
 * connection checker (every `checkingInterval`) applies them from the first socket on: headers must be complete
 * within `headers`, the whole request (body included) within `request` (a 408 HERMOD_REQUEST_TIMEOUT, then
 * the socket closes), a socket without traffic either way closes after `idle` (also one whose client stops
 * reading a response), a kept-alive one after `keepAlive` between requests, a TLS handshake must finish within
 * `tlsHandshake`. None of them cuts a long poll: its request is complete when it starts waiting, and it
 * extends its socket's idle timeout by its wait (device-routes.ts).
 */
export function brokerServerFactory (
  server: BrokerConfig['server'],
  https: HttpsOptions | undefined,
  onRefused: (scope: RefusalScope) => void
): { factory: (handler: Handler) => Server, limiter: ConnectionLimiter } {
  const limiter = new ConnectionLimiter(server.connections, onRefused)
  const t = server.timeouts
  const options = {
    headersTimeout: Math.min(t.headers, t.request),
    requestTimeout: t.request,
    keepAliveTimeout: t.keepAlive,
    connectionsCheckingInterval: t.checkingInterval
  }
  const factory = (handler: Handler): Server => {
    const created: Server = https === undefined
      ? createHttpServer(options, handler)
      : createHttpsServer({ ...https, ...options, handshakeTimeout: t.tlsHandshake }, handler)
    created.setTimeout(t.idle)
    limiter.attach(created, https !== undefined)
    return created
  }
  return { factory, limiter }
}
