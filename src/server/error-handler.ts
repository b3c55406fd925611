// One place that turns every failure into Hermod's error JSON: a stable code, never a stack or a 500 for bad input.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { IdempotencyConflictError, StoreUnavailableError } from '../mailbox/store.js'
import { ReplicationShortError } from '../redis/replica-wait.js'
import { HERMOD_NOT_FOUND } from './errors.js'
import { redactPath } from './redact.js'

/** The body of every error answer (protocol.md section 9). */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  details?: Array<{ path: string, message: string }>
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable'
}

/** Fastify's own client-error codes, mapped onto ours. */
const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'HERMOD_PAYLOAD_TOO_LARGE', 'The body is larger than the configured limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'HERMOD_INVALID_REQUEST', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'HERMOD_INVALID_JSON', 'The body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'HERMOD_INVALID_JSON', 'The body is not valid JSON'],
  FST_ERR_BAD_URL: [400, 'HERMOD_INVALID_REQUEST', 'The URL is malformed'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'HERMOD_URI_TOO_LONG', 'A path segment is longer than 100 characters'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'HERMOD_INVALID_REQUEST', 'The request is malformed'],
  // @fastify/basic-auth: no Authorization header, or not `Basic base64(user:password)`.
  FST_BASIC_AUTH_MISSING_OR_BAD_AUTHORIZATION_HEADER: [401, 'HERMOD_UNAUTHORIZED', 'Missing or invalid credentials']
}

export function errorBody (statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: REASONS[statusCode] ?? 'Error', message }
}

/** At most this many validation problems are answered (Ajv stops at the first one anyway). */
export const MAX_ERROR_DETAILS = 10
/** Longest path or message of one problem, in characters. */
const MAX_DETAIL_TEXT = 200

const clip = (text: string): string => text.length <= MAX_DETAIL_TEXT ? text : `${text.slice(0, MAX_DETAIL_TEXT)}…`

/** A schema validation failure as a bounded 400: the body's problems carry the route's code, others HERMOD_INVALID_REQUEST. */
function validationBody (error: FastifyError & { validation: NonNullable<FastifyError['validation']> }, request: FastifyRequest): ErrorBody {
  const context = error.validationContext ?? 'body'
  const code = context === 'body' ? request.routeOptions.config.validationCode ?? 'HERMOD_INVALID_REQUEST' : 'HERMOD_INVALID_REQUEST'
  const details = error.validation.slice(0, MAX_ERROR_DETAILS).map((v) => ({
    path: clip(`${context}${v.instancePath}`),
    message: clip(v.message ?? 'is invalid')
  }))
  const prefix = code === 'HERMOD_INVALID_COMMAND' ? 'Invalid command' : code === 'HERMOD_INVALID_ANSWER' ? 'Invalid answer' : 'Invalid request'
  const more = error.validation.length > details.length ? `; and ${error.validation.length - details.length} more` : ''
  const body = errorBody(400, code, `${prefix}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}${more}`)
  body.details = details
  return body
}

function toErrorBody (error: FastifyError, request: FastifyRequest): ErrorBody {
  if (error.validation !== undefined) return validationBody(error as Parameters<typeof validationBody>[0], request)
  if (error instanceof ReplicationShortError) {
    return errorBody(503, 'HERMOD_STORE_NOT_REPLICATED', 'The change may be stored, but fewer Redis replicas than broker.redis.wait-replicas confirmed it in time; retry (with the same Idempotency-Key)')
  }
  if (error instanceof StoreUnavailableError) return errorBody(503, 'HERMOD_STORE_UNAVAILABLE', 'The store is unavailable; try again shortly')
  if (error instanceof IdempotencyConflictError) return errorBody(422, 'HERMOD_IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used for a different request')
  if (typeof error.code === 'string' && error.code.startsWith('HERMOD_') && typeof error.statusCode === 'number') {
    return errorBody(error.statusCode, error.code, error.message)
  }
  const known = FASTIFY_CODES[error.code]
  if (known !== undefined) return errorBody(known[0], known[1], known[2])
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return errorBody(status, 'HERMOD_INVALID_REQUEST', 'The request is malformed')
  return errorBody(500, 'HERMOD_INTERNAL', 'Internal error')
}

/** Installs the error and not-found handlers on the root instance. */
export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(error, request)
    if (body.statusCode >= 500) {
      if (body.code === 'HERMOD_INTERNAL') request.log.error({ err: error }, 'request failed')
      else request.log.warn({ code: body.code, err: { message: error.message } }, 'request refused')
      if (body.statusCode === 503) void reply.header('retry-after', '1')
    }
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
  // RFC 9112 section 3.2: an HTTP/1.1 request without Host is a 400 (Node's own check is off: buildApp).
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.host !== undefined || request.raw.httpVersion !== '1.1') return done()
    void reply.code(400).header('connection', 'close')
      .send(errorBody(400, 'HERMOD_INVALID_REQUEST', 'Invalid request: an HTTP/1.1 request needs a Host header'))
  })
  // A request answered before its body was in (an early 401, 413, 404): a later parser error on that body must not
  // add a second answer nobody asked for (handleClientError).
  app.addHook('onResponse', (request, _reply, done) => {
    const socket = request.raw.socket as AnsweredSocket | null
    if (!request.raw.complete && socket !== null) socket[ANSWERED_EARLY] = request.raw
    done()
  })
  app.setNotFoundHandler(async (request, reply) => {
    const error = new HERMOD_NOT_FOUND(`${request.method} ${redactPath(request.url.split('?')[0] ?? '')}`)
    return reply.code(404).send(errorBody(404, error.code, error.message))
  })
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route runs (a malformed escape as in
 * `/command/%`, a path segment over 100 characters) gets our body, never the URL echoed back.
 */
export function sendFrameworkError (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known = FASTIFY_CODES[error.code] ?? [400, 'HERMOD_INVALID_REQUEST', 'The request is malformed']
  void reply.code(known[0]).type('application/json; charset=utf-8').send(errorBody(known[0], known[1], known[2]))
}

/** Marks a socket whose current request was answered before its body arrived (the request, until it completes). */
const ANSWERED_EARLY = Symbol('hermod.answeredEarly')
type AnsweredSocket = Socket & { [ANSWERED_EARLY]?: IncomingMessage, _httpMessage?: { headersSent?: boolean } | null }

/** A whole HTTP/1.1 answer with a HermodError body, for writing on a raw socket; the connection closes after it. */
function rawAnswer (status: number, code: string, message: string): string {
  const body = JSON.stringify(errorBody(status, code, message))
  return `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`
}

/** The raw HTTP answer to a request Node's parser refused: 408 (too slow), 431 (headers too large), else 400. */
function clientErrorResponse (code: string | undefined): string {
  return code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? rawAnswer(408, 'HERMOD_REQUEST_TIMEOUT', 'The request was not received in time')
    : code === 'HPE_HEADER_OVERFLOW'
      ? rawAnswer(431, 'HERMOD_HEADERS_TOO_LARGE', 'The request headers are too large')
      : rawAnswer(400, 'HERMOD_INVALID_REQUEST', 'The request is malformed')
}

/**
 * Fastify's `clientErrorHandler` (Node's `clientError`): answers with clientErrorResponse, as Fastify's
 * default does with its own body. Only the error code is logged: the error carries the raw request bytes.
 * Nothing is written when the request in flight was already answered, or its answer begun (Node's own rule):
 * the error then belongs to a body nobody waits for, and a second answer would be one nobody asked for.
 */
export function handleClientError (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  this.log.debug({ code: error.code }, 'client error')
  const answered = socket as AnsweredSocket
  const earlyAnswer = answered[ANSWERED_EARLY]
  const alreadyAnswered = (earlyAnswer !== undefined && !earlyAnswer.complete) || answered._httpMessage?.headersSent === true
  if (socket.writable && !alreadyAnswered) socket.write(clientErrorResponse(error.code))
  socket.destroy()
}

/**
 * The answers Node's HTTP server would write itself, without a body or a code, made ours: an Expect other than
 * 100-continue (417), CONNECT (no proxy here: 404, where Node would drop the connection without a word). A missing
 * Host is registerErrorHandling's (Node's check is off: buildApp).
 */
export function answerParserRefusals (server: Server): void {
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(errorBody(417, 'HERMOD_EXPECTATION_FAILED', 'Only Expect: 100-continue is supported'))
    response.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' })
    response.end(body)
  })
  server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    socket.on('error', () => {})
    socket.end(rawAnswer(404, 'HERMOD_NOT_FOUND', 'Route CONNECT not found: this is no proxy'))
  })
}
