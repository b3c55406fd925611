// Dev API for the console's command detail: the payload with content ids resolved, QR codes, cancel, the virtual device's answer.
import type { FastifyInstance } from 'fastify'
import QRCode from 'qrcode'
import { rejected } from '../device/answer.js'
import { HERMOD_DEV_COMMAND_NOT_FOUND } from '../dev/errors.js'
import type { DevServices } from '../dev/services.js'
import { ContentProviderError } from '../content/provider-client.js'
import { HERMOD_COMMAND_FINISHED } from '../server/errors.js'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'

const tags = ['development']
const commandParams = { type: 'object', properties: { commandId: { type: 'string', pattern: '^[0-9]{1,20}$' } } } as const

/** `dev/api/commands/{id}/content`, `dev/api/commands/{id}/cancel`, `dev/api/qr`, `dev/api/device/answer`. */
export async function commandToolsRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { store, clock, content } = app.broker
  const { dev } = options

  const peek = async (commandId: string): Promise<Awaited<ReturnType<typeof store.peekCommands>>[number]> => {
    const [command] = await store.peekCommands({ limit: 1, match: (c) => c.commandId === commandId }, clock.now())
    if (command === undefined) throw new HERMOD_DEV_COMMAND_NOT_FOUND()
    return command
  }

  app.get<{ Params: { commandId: string } }>('/api/commands/:commandId/content', {
    schema: {
      summary: 'The command\'s payload as a device would read it: `application/hermod+content-id` items resolved through the client\'s content provider (a peek)',
      tags,
      params: commandParams,
      response: {
        200: { description: 'The payload, its content ids resolved (or the provider\'s error)', type: 'object', properties: { payload: {}, resolved: { type: 'boolean' }, error: { type: 'string' } } },
        ...errorResponses(400, 401, 403, 503),
        404: errorResponse(404, 'HERMOD_DEV_COMMAND_NOT_FOUND: no such command (in any group), or past its lifespan', 'HERMOD_DEV_COMMAND_NOT_FOUND', 'No such command')
      }
    }
  }, async (request) => {
    const command = await peek(request.params.commandId)
    if (command.payload === undefined) return { resolved: false, error: 'the payload is dropped once the command is decided' }
    const destination = command.destinations[0]
    try {
      const text = await content.payloadFor({
        bid: destination?.bid ?? '',
        mid: destination?.mid ?? '',
        type: command.type,
        timeoutSeconds: command.timeoutSeconds,
        lifespanSeconds: command.lifespanSeconds,
        createdAt: command.createdAt,
        timeoutAt: command.timeoutAt,
        payload: command.payload,
        commandId: command.commandId,
        clientId: command.clientId,
        ...(command.externalId === undefined ? {} : { externalId: command.externalId })
      }, clock.now())
      return { payload: JSON.parse(text) as unknown, resolved: text !== command.payload }
    } catch (err) {
      if (!(err instanceof ContentProviderError)) throw err
      return { payload: JSON.parse(command.payload) as unknown, resolved: false, error: `content provider: ${err.message}` }
    }
  })

  app.post<{ Params: { commandId: string } }>('/api/commands/:commandId/cancel', {
    schema: {
      summary: 'Cancel a command as its server system would (the same store operation as DELETE rest/command/{id}, without its client\'s key)',
      tags,
      params: commandParams,
      response: {
        200: { description: 'The command\'s state after the cancel', type: 'object', properties: { commandId: { type: 'string' }, state: { type: 'string' } } },
        ...errorResponses(400, 401, 403, 503),
        404: errorResponse(404, 'HERMOD_DEV_COMMAND_NOT_FOUND: no such command (in any group), or past its lifespan', 'HERMOD_DEV_COMMAND_NOT_FOUND', 'No such command'),
        409: errorResponse(409, 'HERMOD_COMMAND_FINISHED: the command already reached COMPLETED, REJECTED or TIMEOUT', 'HERMOD_COMMAND_FINISHED', 'Command 688 is already COMPLETED')
      }
    }
  }, async (request) => {
    const { commandId } = request.params
    const command = await peek(commandId)
    const result = await store.cancel(command.group, commandId, clock.now())
    if (result.kind === 'not-found') throw new HERMOD_DEV_COMMAND_NOT_FOUND()
    if (result.kind === 'decided' && result.command.state !== 'CANCELLED') throw new HERMOD_COMMAND_FINISHED(commandId, result.command.state)
    request.log.info({ commandId }, 'command cancelled on the console')
    return { commandId, state: result.command.state }
  })

  app.get<{ Querystring: { text: string } }>('/api/qr', {
    schema: {
      summary: 'A QR code (SVG) of `text`: the console shows the uri, location and personal:// link with it, for a phone to scan',
      tags,
      produces: ['image/svg+xml'],
      querystring: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: { 200: { type: 'string', description: 'image/svg+xml' }, ...errorResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const svg = await QRCode.toString(request.query.text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
    return await reply.type('image/svg+xml').header('cache-control', 'private, max-age=3600').send(svg)
  })

  app.post<{ Body: { commandType: string, command?: Record<string, unknown>, status?: 'OK' | 'REJECTED' } }>('/api/device/answer', {
    schema: {
      summary: 'The virtual device\'s answer to a message as read from the device API (`commandType`, `command`): realistic for OK ' +
        '(keys, CMS signatures, JWS from the dev.auto-answer profile), a reason for REJECTED. Nothing is posted: the caller edits it and posts it to rest/ms/{bid}/{mid}',
      tags,
      body: {
        type: 'object',
        required: ['commandType'],
        additionalProperties: true,
        properties: {
          commandType: { type: 'string', maxLength: 40 },
          command: { type: 'object' },
          status: { type: 'string', enum: ['OK', 'REJECTED'], default: 'OK' }
        }
      },
      response: { 200: { description: 'The answer the virtual device would post', type: 'object', properties: { status: { type: 'string' }, response: {} } }, ...errorResponses(400, 401, 403) }
    }
  }, async (request) => {
    const { commandType, command, status = 'OK' } = request.body
    if (status === 'REJECTED') return rejected('rejected on the developer console')
    const opened = await dev.deviceData.open(dev.settings.autoAnswer.profile)
    const answer = await opened.device.answer({ commandType, ...(command === undefined ? {} : { command }) })
    await opened.save()
    return answer
  })
}
