// Operator endpoints: dead-lettered callbacks, listed and replayed (basic auth, or loopback when unset).
import basicAuth from '@fastify/basic-auth'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { HERMOD_FORBIDDEN, HERMOD_UNAUTHORIZED } from '../errors.js'
import { isLoopback } from './loopback.js'
import { errorResponses } from './schemas.js'

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
        if (!timingSafeEqual(digest(`${username}:${password}`), expected)) throw new HERMOD_UNAUTHORIZED()
      }
    })
    app.addHook('onRequest', app.basicAuth)
  }

  const tags = ['operator']
  const security = [{ adminBasic: [] }]

  app.get<{ Querystring: { limit?: string } }>('/admin/callbacks/dead-letters', {
    schema: {
      summary: 'Dead-lettered callbacks, newest first',
      tags,
      security,
      querystring: { type: 'object', properties: { limit: { type: 'string', pattern: '^[0-9]{1,5}$' } } },
      response: errorResponses(401, 403)
    }
  }, async (request) => {
    const letters = await queue.deadLetters(request.query.limit === undefined ? 100 : Number(request.query.limit))
    return {
      deadLetters: letters.map((l) => ({
        id: l.event.id,
        clientId: l.event.clientId,
        commandId: l.event.commandId,
        commandType: l.event.type.toUpperCase(),
        state: l.event.state,
        attempts: l.attempts,
        reason: l.reason,
        failedAt: new Date(l.failedAt).toISOString()
      }))
    }
  })

  app.post<{ Params: { id: string } }>('/admin/callbacks/dead-letters/:id/replay', {
    schema: {
      summary: 'Queue a dead-lettered callback again with a fresh retry schedule',
      tags,
      security,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 200 } } },
      response: errorResponses(401, 403, 404)
    }
  }, async (request, reply) => {
    const replayed = await queue.replay(request.params.id)
    if (!replayed) return reply.code(404).send({ statusCode: 404, code: 'HERMOD_DEAD_LETTER_NOT_FOUND', error: 'Not Found', message: 'No such dead letter' })
    request.log.info({ eventId: request.params.id }, 'dead letter replayed')
    return { replayed: true }
  })
}
