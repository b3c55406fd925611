// One place that turns every failure into Hermod's error JSON: a stable code, never a stack or a 500 for bad input.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { IdempotencyConflictError, StoreUnavailableError } from '../mailbox/store.js'
import { HERMOD_NOT_FOUND } from './errors.js'

/** The body of every error answer (protocol.md section 9). */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  details?: Array<{ path: string, message: string }>
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable'
}

/** Fastify's own client-error codes, mapped onto ours. */
const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'HERMOD_PAYLOAD_TOO_LARGE', 'The body is larger than the configured limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'HERMOD_INVALID_REQUEST', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'HERMOD_INVALID_JSON', 'The body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'HERMOD_INVALID_JSON', 'The body is not valid JSON'],
  FST_ERR_BAD_URL: [400, 'HERMOD_INVALID_REQUEST', 'The URL is malformed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'HERMOD_INVALID_REQUEST', 'The request is malformed']
}

export function errorBody (statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: REASONS[statusCode] ?? 'Error', message }
}

function toErrorBody (error: FastifyError, request: FastifyRequest): ErrorBody {
  if (error.validation !== undefined) {
    const code = request.routeOptions.config.validationCode ?? 'HERMOD_INVALID_REQUEST'
    const details = error.validation.map((v) => ({
      path: `${error.validationContext ?? 'body'}${v.instancePath}`,
      message: v.message ?? 'is invalid'
    }))
    const prefix = code === 'HERMOD_INVALID_COMMAND' ? 'Invalid command' : code === 'HERMOD_INVALID_ANSWER' ? 'Invalid answer' : 'Invalid request'
    const body = errorBody(400, code, `${prefix}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`)
    body.details = details
    return body
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
  app.setNotFoundHandler(async (request, reply) => {
    const error = new HERMOD_NOT_FOUND(`${request.method} ${request.url.split('?')[0]}`)
    return reply.code(404).send(errorBody(404, error.code, error.message))
  })
}
