// Dev API for the console's mailboxes and clients: long polls waiting per box, the allowed clients masked, a new client generated.
import type { FastifyInstance } from 'fastify'
import { CLIENT_ID_PATTERN, generateClientYaml } from '../auth/generate-client.js'
import { HERMOD_INVALID_REQUEST } from '../server/errors.js'
import { errorResponses } from '../server/routes/schemas.js'

const tags = ['development']

/** A secret shown as its first 4 characters and its length: enough to tell two apart, never enough to use. */
export function maskSecret (secret: string | undefined): string | undefined {
  if (secret === undefined || secret === '') return undefined
  return `${secret.slice(0, 4)}… (${secret.length} chars)`
}

/** A URL without userinfo or query string. */
function plainUrl (text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  try {
    const url = new URL(text)
    return `${url.origin}${url.pathname}`
  } catch {
    return '(not a URL)'
  }
}

/** `dev/api/waiters`, `dev/api/clients`, `dev/api/clients/generate/{clientId}`. */
export async function clientsRoutes (app: FastifyInstance): Promise<void> {
  const { waiters, clients } = app.broker

  app.get('/api/waiters', {
    schema: {
      summary: 'Long polls waiting on boxes right now, per box id (this instance\'s)',
      tags,
      response: {
        200: { description: 'The waiting long polls: in all, and per box id', type: 'object', properties: { total: { type: 'integer' }, boxes: { type: 'object', additionalProperties: { type: 'integer' } } } },
        ...errorResponses(401, 403)
      }
    }
  }, async () => ({ total: waiters.size, boxes: Object.fromEntries(waiters.watchedBoxes()) }))

  app.get('/api/clients', {
    schema: {
      summary: 'The allowed clients, their keys and secrets masked',
      tags,
      response: {
        200: {
          description: 'The allowed clients, keys and secrets masked',
          type: 'object',
          properties: {
            clients: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  clientId: { type: 'string' },
                  group: { type: 'string' },
                  key: { type: 'string', description: 'masked' },
                  callbackUrl: { type: 'string', description: 'without userinfo or query' },
                  callbackMode: { type: 'string' },
                  callbackBasicAuth: { type: 'boolean' },
                  callbackSecret: { type: 'string', description: 'masked' },
                  contentProviderUrl: { type: 'string' }
                }
              }
            }
          }
        },
        ...errorResponses(401, 403)
      }
    }
  }, async () => ({
    clients: clients.all().map((c) => ({
      clientId: c.clientId,
      group: c.group,
      key: maskSecret(c.key),
      callbackUrl: plainUrl(c.callbackUrl),
      callbackMode: c.callbackMode,
      callbackBasicAuth: c.callbackBasicAuth !== undefined || (c.callbackUrl ?? '').includes('@'),
      callbackSecret: maskSecret(c.callbackSecret),
      contentProviderUrl: plainUrl(c.contentProviderUrl)
    }))
  }))

  app.get<{ Params: { clientId: string }, Querystring: { group?: string } }>('/api/clients/generate/:clientId', {
    schema: {
      summary: 'A new allowed-clients entry (YAML with a fresh 256-bit key), as generateclient makes it; nothing is stored',
      tags,
      params: { type: 'object', properties: { clientId: { type: 'string', maxLength: 64 } } },
      querystring: { type: 'object', additionalProperties: false, properties: { group: { type: 'string', maxLength: 64 } } },
      produces: ['text/plain'],
      response: { 200: { type: 'string', description: 'The YAML entry, after a comment line with its X-Api-Key' }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const { clientId } = request.params
    const group = request.query.group ?? clientId
    if (!CLIENT_ID_PATTERN.test(clientId) || !CLIENT_ID_PATTERN.test(group)) {
      throw new HERMOD_INVALID_REQUEST('client id and group must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit')
    }
    return await reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(generateClientYaml(clientId, group))
  })
}
