// generateclient (Hermod): a fresh allowed-clients entry as YAML, for loopback callers by default.
import type { FastifyInstance } from 'fastify'
import { CLIENT_ID_PATTERN, generateClientYaml } from '../../auth/generate-client.js'
import { HERMOD_FORBIDDEN, HERMOD_INVALID_REQUEST } from '../errors.js'
import { isLoopback } from './loopback.js'
import { errorResponse, okResponse } from './schemas.js'

export async function utilRoutes (app: FastifyInstance): Promise<void> {
  const open = app.broker.config.broker.generateClientOpen

  app.get<{ Params: { clientId: string }, Querystring: { group?: string } }>('/util/generateclient/:clientId', {
    schema: {
      summary: 'Generate a client entry (YAML) with a fresh 256-bit key, to paste under allowed-clients',
      description: 'Answered to loopback callers only unless broker.generate-client-open is true. Nothing is stored: the broker knows the client once the entry is in its config.',
      operationId: 'generateClient',
      tags: ['operator'],
      security: [],
      params: { type: 'object', properties: { clientId: { type: 'string', maxLength: 64, examples: ['prime-server1'] } } },
      querystring: { type: 'object', properties: { group: { type: 'string', maxLength: 64, description: 'The group (default: the client id)', examples: ['acme'] } } },
      response: {
        200: okResponse('A YAML list item for allowed-clients, after a comment line with its X-Api-Key', { type: 'string' },
          generateClientYaml('prime-server1', 'acme', '079b6a64d75b4e9585bd0c24f36a7deba0ad03498ecf4d69b5766f24fa02e045'), 'text/plain'),
        400: errorResponse(400, 'HERMOD_INVALID_REQUEST: the client id or group is not 1 to 64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
          'HERMOD_INVALID_REQUEST', 'Invalid request: client id and group must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit'),
        403: errorResponse(403, 'HERMOD_FORBIDDEN: not a loopback caller, and broker.generate-client-open is false', 'HERMOD_FORBIDDEN',
          'generateclient answers loopback callers only (set broker.generate-client-open to change that)')
      }
    }
  }, async (request, reply) => {
    if (!open && !isLoopback(request)) {
      throw new HERMOD_FORBIDDEN('generateclient answers loopback callers only (set broker.generate-client-open to change that)')
    }
    const { clientId } = request.params
    const group = request.query.group ?? clientId
    if (!CLIENT_ID_PATTERN.test(clientId) || !CLIENT_ID_PATTERN.test(group)) {
      throw new HERMOD_INVALID_REQUEST('client id and group must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit')
    }
    return reply.type('text/plain; charset=utf-8').send(generateClientYaml(clientId, group))
  })
}
