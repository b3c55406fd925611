// JSON schemas shared by the routes: they validate input and generate the OpenAPI document.
import { deviceAnswerSchema, provisionResultSchema } from '../../device/answer-schema.js'

export const errorSchema = {
  $id: 'HermodError',
  type: 'object',
  description: 'Every error answer: a stable code (HERMOD_*), the HTTP status and a message. Any route may also answer 400 HERMOD_INVALID_REQUEST (a malformed URL or request line), 408 HERMOD_REQUEST_TIMEOUT (the request was not received in time), 414 HERMOD_URI_TOO_LONG (a path segment over 100 characters) and 431 HERMOD_HEADERS_TOO_LARGE.',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', example: 'HERMOD_COMMAND_NOT_FOUND' },
    error: { type: 'string' },
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

/** The 429 of a rate-limited route (broker.rate-limit): the error body, and Retry-After. */
const rateLimitedResponse = {
  $ref: 'HermodError#',
  description: 'HERMOD_RATE_LIMITED: a rate limit is reached (broker.rate-limit; off by default)',
  headers: { 'retry-after': { type: 'integer', description: 'Seconds until the window ends' } }
}

/** `{ 4xx: HermodError }` response entries for the given statuses (429 with its Retry-After). */
export function errorResponses (...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, s === 429 ? rateLimitedResponse : { $ref: 'HermodError#' }]))
}
