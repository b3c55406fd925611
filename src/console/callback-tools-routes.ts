// Dev API for the console's callback inspector: signature check, resend, dead letters listed and replayed.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { DeliveryLogEntry } from '../dev/delivery-log.js'
import type { DevServices } from '../dev/services.js'
import type { CallbackEvent, CommandType, TerminalState } from '../mailbox/types.js'
import { HERMOD_INVALID_REQUEST } from '../server/errors.js'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'
import { HERMOD_CALLBACK_NOT_LOGGED, HERMOD_DEAD_LETTER_NOT_FOUND, HERMOD_RESEND_UNAVAILABLE } from './errors.js'
import { deadLetterView } from '../callbacks/dead-letter-view.js'

const tags = ['development']
const eventBody = {
  type: 'object',
  required: ['eventId'],
  additionalProperties: false,
  properties: { eventId: { type: 'string', minLength: 1, maxLength: 200 }, attempt: { type: 'integer', minimum: 1, maximum: 100000 } }
} as const

/** Whether `header` (`v1,<base64> v1,<base64>`) holds the Standard Webhooks signature of id.timestamp.body under `secret`. */
export function checkSignature (secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  return header.split(' ').some((part) => {
    const [version, signature] = part.split(',')
    if (version !== 'v1' || signature === undefined) return false
    const given = Buffer.from(signature, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

/** The event a logged attempt was for, rebuilt from the body it sent (buildCallbackBody's fields). */
export function eventOfEntry (entry: DeliveryLogEntry, group: string): CallbackEvent {
  const body = JSON.parse(entry.body ?? '{}') as Record<string, unknown>
  const destination = body.destination as { to: string, bid: string, mid: string } | undefined
  return {
    id: entry.eventId,
    clientId: entry.clientId,
    group,
    commandId: entry.commandId,
    type: entry.commandType.toLowerCase() as CommandType,
    state: entry.state as TerminalState,
    ...(entry.externalId === undefined ? {} : { externalId: entry.externalId }),
    ...(destination === undefined ? {} : { destination }),
    ...(body.response === undefined ? {} : { response: JSON.stringify(body.response) }),
    createdAt: Date.parse(String(body.createdAt)),
    finishedAt: Date.parse(String(body.finishedAt))
  }
}

/** `dev/api/callbacks/verify`, `dev/api/callbacks/resend`, `dev/api/dead-letters[/{id}/replay]`. */
export async function callbackToolsRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { clients, queue } = app.broker
  const { dev } = options

  const logged = async (eventId: string, attempt?: number): Promise<DeliveryLogEntry> => {
    const entries = await dev.deliveries.list({}, dev.settings.deliveryLogSize)
    const entry = entries.find((e) => e.eventId === eventId && (attempt === undefined || e.attempt === attempt))
    if (entry === undefined) throw new HERMOD_CALLBACK_NOT_LOGGED()
    return entry
  }

  app.post<{ Body: { eventId: string, attempt?: number } }>('/api/callbacks/verify', {
    schema: {
      summary: 'Check a logged attempt\'s webhook-signature against its client\'s current callback secret (Standard Webhooks, v1 HMAC-SHA256)',
      tags,
      body: eventBody,
      response: {
        200: { description: 'Whether the attempt was signed, and whether its signature verifies', type: 'object', properties: { signed: { type: 'boolean' }, valid: { type: 'boolean' }, reason: { type: 'string' } } },
        ...errorResponses(400, 401, 403, 503),
        404: errorResponse(404, 'HERMOD_CALLBACK_NOT_LOGGED: no such attempt in the delivery log', 'HERMOD_CALLBACK_NOT_LOGGED', 'No such callback attempt in the delivery log')
      }
    }
  }, async (request) => {
    const entry = await logged(request.body.eventId, request.body.attempt)
    const signature = entry.headers?.['webhook-signature']
    const timestamp = entry.headers?.['webhook-timestamp']
    if (signature === undefined || timestamp === undefined) return { signed: false, valid: false, reason: 'the attempt carries no webhook-signature (the client has no callback-secret)' }
    if (entry.body === undefined || entry.bodyTruncated === true) return { signed: true, valid: false, reason: 'the logged body is incomplete' }
    const secret = clients.get(entry.clientId)?.callbackSecret
    if (secret === undefined) return { signed: true, valid: false, reason: 'the client has no callback-secret now' }
    const valid = checkSignature(secret, entry.eventId, timestamp, entry.body, signature)
    return { signed: true, valid, reason: valid ? 'v1 signature matches the client\'s callback-secret' : 'no v1 signature matches the client\'s current callback-secret' }
  })

  app.post<{ Body: { eventId: string, attempt?: number } }>('/api/callbacks/resend', {
    schema: {
      summary: 'Send a logged callback once more, now (with the client\'s current URL, auth and a fresh signature); the attempt is logged like any other',
      tags,
      body: eventBody,
      response: {
        200: { description: 'The new attempt: its outcome, status and number', type: 'object', properties: { outcome: { type: 'string' }, status: { type: 'integer' }, attempt: { type: 'integer' } } },
        ...errorResponses(400, 401, 403, 503),
        404: errorResponse(404, 'HERMOD_CALLBACK_NOT_LOGGED: no such attempt in the delivery log', 'HERMOD_CALLBACK_NOT_LOGGED', 'No such callback attempt in the delivery log'),
        409: errorResponse(409, 'HERMOD_RESEND_UNAVAILABLE: this instance delivers no callbacks (--role api)', 'HERMOD_RESEND_UNAVAILABLE', 'This instance delivers no callbacks')
      }
    }
  }, async (request) => {
    const deliverer = dev.deliverer
    if (deliverer === undefined) throw new HERMOD_RESEND_UNAVAILABLE()
    const entry = await logged(request.body.eventId, request.body.attempt)
    if (entry.body === undefined || entry.bodyTruncated === true) throw new HERMOD_INVALID_REQUEST('the logged body is incomplete: it cannot be sent again')
    const client = clients.get(entry.clientId)
    if (client === undefined) throw new HERMOD_INVALID_REQUEST('the client is no longer configured')
    const sameCommand = await dev.deliveries.list({ commandId: entry.commandId }, dev.settings.deliveryLogSize)
    const [newest] = sameCommand.filter((e) => e.eventId === entry.eventId)
    const attempt = (newest?.attempt ?? entry.attempt) + 1
    const event = eventOfEntry(entry, client.group)
    const result = await deliverer.attempt(event, attempt)
    // No queue schedules after a resend: the recorder writes the entry without a next retry.
    dev.recorder.scheduled(event, { attempt, result })
    request.log.info({ eventId: event.id, attempt, outcome: result.kind }, 'callback resent on the console')
    return { outcome: result.kind, attempt, ...('status' in result && typeof result.status === 'number' ? { status: result.status } : {}) }
  })

  app.get<{ Querystring: { limit?: string } }>('/api/dead-letters', {
    schema: {
      summary: 'Dead-lettered callbacks, newest first (what GET admin/callbacks/dead-letters answers, behind the dev guard)',
      tags,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' } } },
      response: {
        200: {
          description: 'The dead letters, newest first',
          type: 'object',
          properties: {
            deadLetters: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  clientId: { type: 'string' },
                  commandId: { type: 'string' },
                  commandType: { type: 'string' },
                  state: { type: 'string' },
                  externalId: { type: 'string' },
                  attempts: { type: 'integer' },
                  reason: { type: 'string' },
                  failedAt: { type: 'string', format: 'date-time' }
                }
              }
            }
          }
        },
        ...errorResponses(400, 401, 403, 503)
      }
    }
  }, async (request) => {
    const letters = await queue.deadLetters(Number(request.query.limit ?? '100'))
    return {
      deadLetters: letters.map(deadLetterView)
    }
  })

  app.post<{ Params: { id: string } }>('/api/dead-letters/:id/replay', {
    schema: {
      summary: 'Queue a dead-lettered callback again with a fresh retry schedule (as POST admin/callbacks/dead-letters/{id}/replay)',
      tags,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 200 } } },
      response: { 200: { description: 'Queued again', type: 'object', properties: { replayed: { type: 'boolean' } } }, ...errorResponses(401, 403, 503), 404: errorResponse(404, 'HERMOD_DEAD_LETTER_NOT_FOUND: no dead letter with this id', 'HERMOD_DEAD_LETTER_NOT_FOUND', 'No such dead letter') }
    }
  }, async (request) => {
    if (!(await queue.replay(request.params.id))) throw new HERMOD_DEAD_LETTER_NOT_FOUND()
    request.log.info({ eventId: request.params.id }, 'dead letter replayed on the console')
    return { replayed: true }
  })
}
