// The front process's own server: what a new connection gets while the broker process is overloaded (R29).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { BrokerConfig } from '../../config/types.js'
import { ConnectionLimiter, refusalOf } from '../connection-limit.js'
import { errorBody, handleClientError } from '../error-handler.js'
import { serverTimeoutOptions } from '../http-server.js'
import { OVERLOADED_JSON, sendRaw503 } from '../load-shedding.js'

const LIVE_JSON = JSON.stringify({ status: 'UP' })
const SHUTTING_DOWN_JSON = JSON.stringify(errorBody(503, 'HERMOD_SHUTTING_DOWN', 'The broker is shutting down; try again (another instance)'))

const held = Symbol('hermod.frontHeld')

/**
 * A connection answered 503 here is held, paused, for this long and up to as long again (jitter) before its
 * lingering close, ms: its client's next connection comes no sooner than Retry-After: 1 says, so an attack's
 * reconnections cost this loop a TLS handshake per connection and 1-2 s instead of as fast as the client can
 * reconnect, and a new client (a liveness probe) waits behind fewer of them (docs/performance.md, Overload).
 */
export const SHED_HOLD_MS = 1000

/** How long a socket is still read (and what arrives dropped) after its answer and FIN, at most, ms. */
const LINGER_MS = 2000

/**
 * Replaces Node's close after a Connection: close answer (end, then destroy once written): a socket closed with
 * unread bytes (a client's pipelined requests) sends a TCP reset, and a reset can make the client's kernel drop
 * the answer before it is read. Lingering close, as HTTP servers do: FIN after the answer, then read and drop
 * until the client closes too, for LINGER_MS at most. A shed answer's socket is first held for SHED_HOLD_MS.
 */
function lingerClose (this: Socket & { [held]?: boolean }): void {
  if (this[held] === true) {
    // Paused while held (over TLS nothing its client sends meanwhile is read; over plain HTTP Node's parser reads the
    // socket itself and may answer it 503 too), then FIN, then destroyed.
    this.pause()
    const timer = setTimeout(() => {
      this.end()
      setTimeout(() => this.destroy(), LINGER_MS).unref()
    }, SHED_HOLD_MS * (1 + Math.random())).unref()
    this.once('close', () => clearTimeout(timer))
    return
  }
  this.end()
  const timer = setTimeout(() => this.destroy(), LINGER_MS).unref()
  this.once('close', () => clearTimeout(timer))
  this.once('end', () => this.destroy())
}

/** What the answers depend on, read per request. */
export interface FrontAnswerState {
  /** The broker process reported within the liveness window: liveness is UP. */
  alive (): boolean
  /** SIGTERM received: everything but liveness is HERMOD_SHUTTING_DOWN. */
  closing (): boolean
  /** Counts a request answered 503 here. */
  shed (): void
}

/**
 * An http(s) server on the broker's own TLS material and timeouts, fed sockets by the front: liveness
 * (`{context-path}/actuator/health/liveness`) answers 200 UP while the broker process is alive, every other
 * request `503 HERMOD_OVERLOADED` with Retry-After: 1. Every answer has Connection: close (a lingering close; a
 * 503's socket held first, SHED_HOLD_MS), so the client's next connection is offered to the broker process again,
 * and the front keeps no connection: a client kept here and answered 503 per request would cost this loop more
 * than its reconnection (measured, docs/performance.md). Malformed requests get the broker's own error bodies.
 */
export function createFrontAnswers (config: BrokerConfig, https: HttpsOptions | null, state: FrontAnswerState, logger: Logger): Server {
  const liveness = `${config.server.contextPath}/actuator/health/liveness`
  const t = config.server.timeouts
  const options = serverTimeoutOptions(t)
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const path = request.url?.split('?')[0]
    if (path === liveness && request.method === 'GET' && state.alive()) {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(LIVE_JSON), connection: 'close' })
      response.end(LIVE_JSON)
      return
    }
    if (state.closing()) return sendRaw503(response, SHUTTING_DOWN_JSON, true)
    if (refusalOf(request.socket) !== undefined) return sendRaw503(response, OVERLOADED_JSON, true)
    // Counted once written: of the requests pipelined behind it, only those Node's parser already met are answered.
    response.once('finish', state.shed)
    ;(request.socket as Socket & { [held]?: boolean })[held] = true
    sendRaw503(response, OVERLOADED_JSON, true)
  }
  const server = https === null
    ? createHttpServer(options, handler)
    : createHttpsServer({ ...https, ...options, handshakeTimeout: t.tlsHandshake }, handler)
  server.setTimeout(t.idle)
  // The connection limits hold here too (the sockets kept here are not the broker process's to count).
  new ConnectionLimiter(config.server.connections).attach(server, https !== null)
  server.on(https === null ? 'connection' : 'secureConnection', (socket: Socket) => { socket.destroySoon = lingerClose })
  const context = { log: logger }
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => { handleClientError.call(context as never, error, socket) })
  // Sockets are emitted into it, it never listens: this starts Node's checker of headersTimeout and requestTimeout.
  server.emit('listening')
  return server
}
