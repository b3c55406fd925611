// Every HTTP error the broker answers: a stable HERMOD_* code and one status each (@fastify/error).
import createError from '@fastify/error'

/** `new HERMOD_UNAUTHORIZED(API_KEY_REFUSED)` on the X-Api-Key routes, `(CREDENTIALS_REFUSED)` behind Basic auth. */
export const HERMOD_UNAUTHORIZED = createError('HERMOD_UNAUTHORIZED', '%s', 401)
export const API_KEY_REFUSED = 'Missing or invalid X-Api-Key'
export const CREDENTIALS_REFUSED = 'Missing or invalid credentials'
export const HERMOD_FORBIDDEN = createError('HERMOD_FORBIDDEN', '%s', 403)
export const HERMOD_NOT_FOUND = createError('HERMOD_NOT_FOUND', 'Route %s not found', 404)
export const HERMOD_UNKNOWN_COMMAND_TYPE = createError('HERMOD_UNKNOWN_COMMAND_TYPE', 'Unknown command type "%s"; allowed: provision, certificate, authenticate, sign, ping', 404)
export const HERMOD_INVALID_COMMAND = createError('HERMOD_INVALID_COMMAND', 'Invalid command: %s', 400)
export const HERMOD_INVALID_JSON = createError('HERMOD_INVALID_JSON', 'The body is not valid JSON: %s', 400)
export const HERMOD_INVALID_REQUEST = createError('HERMOD_INVALID_REQUEST', 'Invalid request: %s', 400)
export const HERMOD_INVALID_ANSWER = createError('HERMOD_INVALID_ANSWER', 'Invalid answer: %s', 400)
export const HERMOD_UNSUPPORTED_MEDIA_TYPE = createError('HERMOD_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type %s; send application/json', 415)
export const HERMOD_PAYLOAD_TOO_LARGE = createError('HERMOD_PAYLOAD_TOO_LARGE', 'The body is larger than %s bytes', 413)
export const HERMOD_COMMAND_NOT_FOUND = createError('HERMOD_COMMAND_NOT_FOUND', 'No such command', 404)
export const HERMOD_COMMAND_FINISHED = createError('HERMOD_COMMAND_FINISHED', 'Command %s is already %s', 409)
export const HERMOD_IDEMPOTENCY_CONFLICT = createError('HERMOD_IDEMPOTENCY_CONFLICT', 'Idempotency-Key %s was already used for a different request', 422)
export const HERMOD_BOX_NOT_FOUND = createError('HERMOD_BOX_NOT_FOUND', 'No such box', 404)
export const HERMOD_MESSAGE_NOT_FOUND = createError('HERMOD_MESSAGE_NOT_FOUND', 'No such message', 404)
export const HERMOD_MESSAGE_DECIDED = createError('HERMOD_MESSAGE_DECIDED', 'The command of this message is already %s', 409)
export const HERMOD_MESSAGE_TIMED_OUT = createError('HERMOD_MESSAGE_TIMED_OUT', 'The command of this message timed out', 410)
export const HERMOD_RATE_LIMITED = createError('HERMOD_RATE_LIMITED', 'Too many requests: %s', 429)
export const HERMOD_STORE_UNAVAILABLE = createError('HERMOD_STORE_UNAVAILABLE', 'The store is unavailable; try again shortly', 503)
export const HERMOD_OVERLOADED = createError('HERMOD_OVERLOADED', 'The broker is overloaded; try again shortly', 503)
export const HERMOD_INTERNAL = createError('HERMOD_INTERNAL', 'Internal error', 500)
