// JSON schemas shared by the routes: they validate input and generate the OpenAPI document.
import { deviceAnswerSchema, provisionResultSchema } from '../../device/answer-schema.js'
import { errorBody } from '../error-handler.js'

export const errorSchema = {
  $id: 'HermodError',
  type: 'object',
  description: 'Every error answer: a stable code (HERMOD_*), the HTTP status and a message; never the URL, a stack or a secret.',
  properties: {
    statusCode: { type: 'integer', description: 'The HTTP status, repeated' },
    code: { type: 'string', pattern: '^HERMOD_[A-Z_]+$', description: 'Stable: match on this, not on the message' },
    error: { type: 'string', description: 'The status\'s reason phrase' },
    message: { type: 'string' },
    details: { type: 'array', maxItems: 10, description: 'Validation problems, the first at most 10', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } }
  },
  required: ['statusCode', 'code', 'error', 'message']
} as const

export const destinationSchema = {
  $id: 'Destination',
  type: 'object',
  properties: {
    to: { type: 'string', description: '`@tmp` or a box name within the group' },
    bid: { type: 'string', format: 'uuid', description: 'Box id' },
    mid: { type: 'string', format: 'uuid', description: 'Message id' },
    uri: { type: 'string', description: 'com.nexusgroup.plugout:///?url=<publicUrl/bid>&token=<box token>' },
    location: { type: 'string', description: 'publicUrl/bid/mid: what a QR code carries' }
  },
  required: ['to', 'bid', 'mid', 'uri', 'location']
} as const

/** The command header's schema; `to` holds at most `maxDestinations` entries (broker.commands.max-destinations). */
export function commandHeaderSchema (maxDestinations: number): object {
  return {
    type: 'object',
    description: 'The only part of a command the broker interprets. Unknown fields are ignored. Every string in it must be well-formed Unicode (no lone surrogates).',
    properties: {
      lifespan: { type: 'integer', minimum: 1, description: 'Seconds until the command leaves history (default: timeout, else broker.commands.default-lifespan)' },
      timeout: { type: 'integer', minimum: 1, description: 'Seconds until the command times out (default: lifespan, else broker.commands.default-timeout); at most lifespan' },
      to: { type: 'array', minItems: 1, maxItems: maxDestinations, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'Destinations: `@tmp` (a fresh box) or box names within the group. Default ["@tmp"]' },
      externalId: { type: 'string', maxLength: 1024, description: 'Opaque; echoed in status and callbacks' }
    },
    additionalProperties: true
  }
}

export const acceptedSchema = {
  $id: 'AcceptedCommand',
  type: 'object',
  properties: {
    commandId: { type: 'string', description: 'Decimal string, unique across the deployment' },
    destinations: { type: 'array', items: { $ref: 'Destination#' } },
    commandType: { type: 'string', enum: ['PROVISION', 'CERTIFICATE', 'AUTHENTICATE', 'SIGN', 'PING'] },
    state: { type: 'string', enum: ['IN_PROGRESS', 'COMPLETED', 'REJECTED', 'TIMEOUT', 'CANCELLED'] },
    fqdn: { type: 'string' }
  },
  required: ['commandId', 'destinations', 'commandType', 'state', 'fqdn']
} as const

export const commandStatusSchema = {
  $id: 'CommandStatus',
  type: 'object',
  properties: {
    commandId: { type: 'string' },
    commandType: { type: 'string' },
    state: { type: 'string', enum: ['IN_PROGRESS', 'COMPLETED', 'REJECTED', 'TIMEOUT', 'CANCELLED'] },
    externalId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    timeoutAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', description: 'End of the lifespan: after it the command answers 404' },
    finishedAt: { type: 'string', format: 'date-time' },
    destinations: { type: 'array', items: { $ref: 'Destination#' } },
    answeredBy: { type: 'object', properties: { to: { type: 'string' }, bid: { type: 'string' }, mid: { type: 'string' } } },
    response: { description: 'The device\'s response, untouched (COMPLETED / REJECTED)' }
  },
  required: ['commandId', 'commandType', 'state', 'createdAt', 'timeoutAt', 'expiresAt', 'destinations']
} as const

export const uuidParam = { type: 'string', maxLength: 64 } as const

export const sharedSchemas = [errorSchema, destinationSchema, acceptedSchema, commandStatusSchema,
  // The virtual device's answer formats (docs/device.md), documented next to the device API.
  provisionResultSchema, deviceAnswerSchema]

/** The usual code, message and meaning of each error status, for the entries errorResponses() writes. */
const ERROR_STATUSES: Record<number, [code: string, message: string, description: string]> = {
  400: ['HERMOD_INVALID_REQUEST', 'Invalid request: querystring/limit must match pattern "^[0-9]{1,4}$"', 'HERMOD_INVALID_REQUEST: a parameter, the query or the body is invalid (`details` names each problem)'],
  401: ['HERMOD_UNAUTHORIZED', 'Missing or invalid credentials', 'HERMOD_UNAUTHORIZED: missing or wrong credentials'],
  403: ['HERMOD_FORBIDDEN', 'the dev API answers loopback callers only unless broker.dev credentials are set', 'HERMOD_FORBIDDEN: not a loopback caller, and no credentials are configured that would let one in'],
  404: ['HERMOD_NOT_FOUND', 'No such command', 'Not found'],
  408: ['HERMOD_REQUEST_TIMEOUT', 'The request was not received in time', 'HERMOD_REQUEST_TIMEOUT'],
  409: ['HERMOD_DEV_STORE_UNSUPPORTED', 'Reset works on the embedded (memory) store only', 'Conflict with the current state'],
  410: ['HERMOD_MESSAGE_TIMED_OUT', 'The command of this message timed out', 'Gone'],
  413: ['HERMOD_PAYLOAD_TOO_LARGE', 'The body is larger than the configured limit', 'HERMOD_PAYLOAD_TOO_LARGE: the body exceeds broker.commands.body-limit'],
  415: ['HERMOD_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json', 'HERMOD_UNSUPPORTED_MEDIA_TYPE: a body that is not application/json'],
  422: ['HERMOD_IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used for a different request', 'HERMOD_IDEMPOTENCY_CONFLICT'],
  429: ['HERMOD_RATE_LIMITED', 'Too many requests; try again after Retry-After seconds', 'HERMOD_RATE_LIMITED: a rate limit is reached (broker.rate-limit; off by default)'],
  502: ['HERMOD_CONTENT_PROVIDER_FAILED', 'The content provider failed', 'HERMOD_CONTENT_PROVIDER_FAILED'],
  503: ['HERMOD_STORE_UNAVAILABLE', 'The store is unavailable; try again shortly',
    'HERMOD_STORE_UNAVAILABLE: the store did not answer; HERMOD_STORE_NOT_REPLICATED: fewer replicas than broker.redis.wait-replicas confirmed a change in time; ' +
    'try again (Retry-After)']
}

/**
 * One error response of a route: its meaning (name the HERMOD_* codes it carries) and an example body with `code`.
 * The content form lets the description and the example sit next to the HermodError schema.
 */
export function errorResponse (status: number, description: string, code = ERROR_STATUSES[status]?.[0] ?? 'HERMOD_INVALID_REQUEST', message = ERROR_STATUSES[status]?.[1] ?? description): object {
  return {
    description,
    content: { 'application/json': { schema: { $ref: 'HermodError#' }, example: errorBody(status, code, message) } }
  }
}

/** The Retry-After header of a 429 (broker.rate-limit). */
const retryAfter = { 'retry-after': { type: 'integer', description: 'Seconds until the window ends' } }

/** `{ 4xx: HermodError }` entries for the given statuses, with their usual meaning (429 with Retry-After; a route's own: errorResponse). */
export function errorResponses (...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((s) => {
    const entry = errorResponse(s, ERROR_STATUSES[s]?.[2] ?? 'Error')
    return [s, s === 429 ? { ...entry, headers: retryAfter } : entry]
  }))
}

/** A success response: a description, the schema and optionally an example (all three show in Swagger UI). */
export function okResponse (description: string, schema: object, example?: unknown, mediaType = 'application/json'): object {
  return { description, content: { [mediaType]: { schema, ...(example === undefined ? {} : { example }) } } }
}
