// Operator endpoints: dead-lettered callbacks, listed and replayed (basic auth, or loopback when unset).
import basicAuth from '@fastify/basic-auth'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { CREDENTIALS_REFUSED, HERMOD_FORBIDDEN, HERMOD_UNAUTHORIZED } from '../errors.js'
import { isLoopback } from './loopback.js'
import { errorResponse, errorResponses, okResponse } from './schemas.js'
import { deadLetterView } from '../../callbacks/dead-letter-view.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export async function adminRoutes (app: FastifyInstance): Promise<void> {
  const { config, queue } = app.broker
  const admin = config.broker.admin
  if (admin === undefined) {
    app.addHook('onRequest', async (request) => {
      if (!isLoopback(request)) throw new HERMOD_FORBIDDEN('admin endpoints answer loopback callers only unless broker.admin credentials are set')
    })
  } else {
    const expected = digest(`${admin.username}:${admin.password}`)
    await app.register(basicAuth, {
      authenticate: { realm: 'hermod-broker admin' },
      validate: async (username, password) => {
        if (!timingSafeEqual(digest(`${username}:${password}`), expected)) throw new HERMOD_UNAUTHORIZED(CREDENTIALS_REFUSED)
      }
    })
    app.addHook('onRequest', app.basicAuth)
  }

  const tags = ['operator']
  // Without broker.admin credentials the routes answer loopback callers only, and need nothing.
  const security = admin === undefined ? [] : [{ adminBasic: [] }]
  const deadLetter = {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'The event id (webhook-id): pass it to replay' },
      clientId: { type: 'string' },
      commandId: { type: 'string' },
      commandType: { type: 'string' },
      state: { type: 'string', enum: ['COMPLETED', 'REJECTED', 'TIMEOUT', 'CANCELLED'] },
      attempts: { type: 'integer' },
      reason: { type: 'string', description: 'The last attempt\'s failure' },
      failedAt: { type: 'string', format: 'date-time' }
    }
  }
  const example = {
    id: 'evt_688_COMPLETED', clientId: 'prime', commandId: '688', commandType: 'SIGN', state: 'COMPLETED', attempts: 8, reason: 'HTTP 503', failedAt: '2026-01-01T12:05:00.000Z'
  }

  app.get<{ Querystring: { limit?: string } }>('/admin/callbacks/dead-letters', {
    schema: {
      operationId: 'listDeadLetters',
      summary: 'Dead-lettered callbacks, newest first',
      tags,
      security,
      querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]{1,5}$', description: 'At most this many (default 100)' } } },
      response: {
        200: okResponse('The dead letters: callbacks whose retry schedule ran out, or that got a 4xx other than 408/429',
          { type: 'object', properties: { deadLetters: { type: 'array', items: deadLetter } } }, { deadLetters: [example] }),
        ...errorResponses(400, 401, 403)
      }
    }
  }, async (request) => {
    const letters = await queue.deadLetters(request.query.limit === undefined ? 100 : Number(request.query.limit))
    return {
      deadLetters: letters.map(deadLetterView)
    }
  })

  app.post<{ Params: { id: string } }>('/admin/callbacks/dead-letters/:id/replay', {
    schema: {
      operationId: 'replayDeadLetter',
      summary: 'Queue a dead-lettered callback again with a fresh retry schedule',
      tags,
      security,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 200, description: 'The `id` of a dead letter' } } },
      response: {
        200: okResponse('Queued again', { type: 'object', properties: { replayed: { type: 'boolean', enum: [true] } } }, { replayed: true }),
        ...errorResponses(400, 401, 403),
        404: errorResponse(404, 'HERMOD_DEAD_LETTER_NOT_FOUND: no dead letter with this id', 'HERMOD_DEAD_LETTER_NOT_FOUND', 'No such dead letter')
      }
    }
  }, async (request, reply) => {
    const replayed = await queue.replay(request.params.id)
    if (!replayed) return reply.code(404).send({ statusCode: 404, code: 'HERMOD_DEAD_LETTER_NOT_FOUND', error: 'Not Found', message: 'No such dead letter' })
    request.log.info({ eventId: request.params.id }, 'dead letter replayed')
    return { replayed: true }
  })
}
