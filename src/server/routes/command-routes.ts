// The server-system API: post a command, query its status, cancel it (X-Api-Key on every route).
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticateApiKey } from '../../auth/api-key.js'
import { messageLocation, plugoutUri } from '../../mailbox/links.js'
import { COMMAND_TYPES, type CommandRecord, type CommandType } from '../../mailbox/types.js'
import {
  API_KEY_REFUSED, HERMOD_COMMAND_FINISHED, HERMOD_COMMAND_NOT_FOUND, HERMOD_INVALID_COMMAND, HERMOD_INVALID_REQUEST,
  HERMOD_UNAUTHORIZED, HERMOD_UNKNOWN_COMMAND_TYPE
} from '../errors.js'
import { illFormedStringPath } from '../well-formed.js'
import { COMMAND_EXAMPLES } from './command-examples.js'
import { commandHeaderSchema, errorResponse, errorResponses, okResponse } from './schemas.js'

const COMMAND_ID = /^[0-9]{1,20}$/
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

interface CommandHeader { lifespan?: number, timeout?: number, to?: string[], externalId?: string }
type CommandRequest = FastifyRequest<{ Body: Record<string, unknown> | undefined }>

const security = [{ apiKey: [] }]
const unauthorized = errorResponse(401, 'HERMOD_UNAUTHORIZED: X-Api-Key missing, undecodable, or not an allowed client and key (the same answer in every case)',
  'HERMOD_UNAUTHORIZED', API_KEY_REFUSED)

/** The payload member each type conventionally carries (handed to the device untouched; the broker checks none of it). */
const PAYLOAD_MEMBERS: Record<CommandType, string | undefined> = {
  provision: 'provCommand', certificate: 'certCommand', authenticate: 'authCommand', sign: 'signCommand', ping: undefined
}

const ACCEPTED_EXAMPLE = {
  commandId: '688',
  destinations: [{
    to: '@tmp',
    bid: '11318956-2040-4360-941d-437e4ddd810c',
    mid: '14fc191a-a0a3-4ae3-929a-e37efafdb510',
    uri: 'com.nexusgroup.plugout:///?url=https%3A%2F%2Fbroker.example%3A20400%2Fhermod%2Frest%2Fms%2F11318956-2040-4360-941d-437e4ddd810c&token=0464297b-8406-4f94-a734-628d071069d8',
    location: 'https://broker.example:20400/hermod/rest/ms/11318956-2040-4360-941d-437e4ddd810c/14fc191a-a0a3-4ae3-929a-e37efafdb510'
  }],
  commandType: 'SIGN',
  state: 'IN_PROGRESS',
  fqdn: 'broker.example'
}

/** The route schema of POST /command/{type} for one type: validation of commandHeader, and its OpenAPI operation. */
function commandSchema (type: CommandType, maxDestinations: number): object {
  const member = PAYLOAD_MEMBERS[type]
  const name = `${type.slice(0, 1).toUpperCase()}${type.slice(1)}`
  return {
    operationId: `post${name}Command`,
    summary: `Post a ${type} command (Hermod)`,
    description: `${member === undefined ? 'A ping needs no payload; an empty body is accepted.' : `The payload is by convention \`${member}\`.`} ` +
      'Every top-level member besides `commandHeader` is the payload, handed to the device untouched. Answers 200, as Hermod does. ' +
      'With `Idempotency-Key`, the same request again within the lifespan returns the first command (header `idempotent-replayed: true`). ' +
      'POST /command/{any other type} answers 404 HERMOD_UNKNOWN_COMMAND_TYPE naming the allowed types.',
    tags: ['server system'],
    security,
    headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 255, description: '1 to 255 visible ASCII characters' } } },
    body: {
      type: 'object',
      properties: {
        commandHeader: commandHeaderSchema(maxDestinations),
        ...(member === undefined ? {} : { [member]: { description: 'The payload for the device, untouched (any JSON)' } })
      },
      additionalProperties: true,
      examples: [COMMAND_EXAMPLES[type]]
    },
    response: {
      200: okResponse('Accepted: the command id and one destination per `to` entry (box id, message id, plugout URI and location)', { $ref: 'AcceptedCommand#' },
        { ...ACCEPTED_EXAMPLE, commandType: type.toUpperCase() }),
      ...errorResponses(413, 415, 429, 503),
      401: unauthorized,
      400: errorResponse(400, 'HERMOD_INVALID_COMMAND: a commandHeader field is invalid (`details` names it), timeout > lifespan, a maximum exceeded, or ' +
        'no body for a type that needs one; HERMOD_INVALID_JSON: the body is not JSON; HERMOD_INVALID_REQUEST: a malformed Idempotency-Key',
      'HERMOD_INVALID_COMMAND', 'Invalid command: commandHeader.timeout (60) must not exceed commandHeader.lifespan (30)'),
      422: errorResponse(422, 'HERMOD_IDEMPOTENCY_CONFLICT: this Idempotency-Key was already used for a different request')
    }
  }
}

/** Registers the command routes; the API-key hook covers exactly this encapsulated scope. */
export async function commandRoutes (app: FastifyInstance): Promise<void> {
  const { config, store, clock, clients, metrics } = app.broker
  const limits = config.broker.commands
  const acceptedByType = Object.fromEntries(COMMAND_TYPES.map((type) => [type, metrics.accepted.labels({ type })])) as
    Record<CommandType, { inc: () => void }>

  // Callback style (here and in preValidation): no promise per request on the hottest path.
  app.addHook('onRequest', (request, _reply, done) => {
    const client = authenticateApiKey(request.headers['x-api-key'], clients)
    if (client === undefined) return done(new HERMOD_UNAUTHORIZED(API_KEY_REFUSED))
    request.client = client
    done()
  })
  // Per client id, counted after the API-key check above (route-level hooks run after the scope's).
  await app.rateLimits.protect(app, 'client')

  function destinationsOf (command: CommandRecord): object[] {
    return command.destinations.map((d) => ({
      to: d.to,
      bid: d.bid,
      mid: d.mid,
      uri: plugoutUri(config.publicUrl, d.bid, d.token),
      location: messageLocation(config.publicUrl, d.bid, d.mid)
    }))
  }

  const accept = (type: CommandType) => async (request: CommandRequest, reply: FastifyReply): Promise<object> => {
    const body = request.body ?? {}
    const header = (body.commandHeader ?? {}) as CommandHeader
    const { timeout, lifespan } = commandTimes(header, limits)
    const illFormed = illFormedStringPath(header)
    if (illFormed !== undefined) throw new HERMOD_INVALID_COMMAND(`commandHeader${illFormed} is not a well-formed Unicode string (a lone surrogate)`)
    const to = header.to ?? ['@tmp']
    const idempotencyKey = request.headers['idempotency-key']
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      throw new HERMOD_INVALID_REQUEST('Idempotency-Key must be 1 to 255 visible ASCII characters')
    }
    const client = request.client!
    const { command, replayed } = await store.accept({
      type,
      group: client.group,
      clientId: client.clientId,
      timeoutSeconds: timeout,
      lifespanSeconds: lifespan,
      to,
      payload: payloadText(body),
      ...(header.externalId === undefined ? {} : { externalId: header.externalId }),
      ...(idempotencyKey === undefined
        ? {}
        : { idempotencyKey, fingerprint: createHash('sha256').update(type).update('\n').update(JSON.stringify(body)).digest('base64url') })
    }, clock.now())
    if (replayed) void reply.header('idempotent-replayed', 'true')
    else {
      acceptedByType[type].inc()
      request.log.info({ commandId: command.commandId, type, clientId: client.clientId, destinations: to.length }, 'command accepted')
      if (app.broker.dev?.autoAnswer.active === true) app.broker.dev.autoAnswer.accepted(command, body)
    }
    return {
      commandId: command.commandId,
      destinations: destinationsOf(command),
      commandType: type.toUpperCase(),
      state: command.state,
      fqdn: config.fqdn
    }
  }

  // One literal path per type (OpenAPI allows no two templates /command/{type} and /command/{commandId}); any other
  // type reaches the hidden route below, after the API key and the body parser, as before: 404 naming the allowed types.
  for (const type of COMMAND_TYPES) {
    app.post<{ Body: Record<string, unknown> | undefined }>(`/command/${type}`, {
      config: { validationCode: 'HERMOD_INVALID_COMMAND' },
      schema: commandSchema(type, limits.maxDestinations),
      preValidation: (request: CommandRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
        if (request.body === undefined || request.body === null) {
          if (type !== 'ping') return done(new HERMOD_INVALID_COMMAND(`a ${type} command needs a JSON object body`))
          request.body = {}
        }
        done()
      }
    }, accept(type))
  }
  app.post<{ Params: { type: string } }>('/command/:type', { schema: { hide: true } }, async (request) => {
    throw new HERMOD_UNKNOWN_COMMAND_TYPE(request.params.type.slice(0, 64))
  })

  const byId = {
    params: { type: 'object', properties: { commandId: { type: 'string', description: 'The commandId an accept returned', examples: ['688'] } } },
    tags: ['server system'],
    security
  }
  const notFound = errorResponse(404, 'HERMOD_COMMAND_NOT_FOUND: no such command in the caller\'s group, or past its lifespan (another group\'s looks the same)',
    'HERMOD_COMMAND_NOT_FOUND', 'No such command')

  app.get<{ Params: { commandId: string } }>('/command/:commandId', {
    schema: {
      ...byId,
      operationId: 'getCommand',
      summary: 'Query a command\'s state (kept until its lifespan)',
      response: { 200: okResponse('The command\'s state, destinations and, once answered, the device\'s response', { $ref: 'CommandStatus#' }), ...errorResponses(429, 503), 401: unauthorized, 404: notFound }
    }
  }, async (request) => {
    const { commandId } = request.params
    const command = COMMAND_ID.test(commandId) ? await store.getCommand(request.client!.group, commandId, clock.now()) : null
    if (command === null) throw new HERMOD_COMMAND_NOT_FOUND()
    return statusOf(command)
  })

  app.delete<{ Params: { commandId: string } }>('/command/:commandId', {
    schema: {
      ...byId,
      operationId: 'cancelCommand',
      summary: 'Cancel a command still in progress (its devices then get 409; a CANCELLED callback is sent)',
      response: {
        200: okResponse('CANCELLED (also when it already was: cancelling twice is not an error)', { $ref: 'CommandStatus#' }),
        ...errorResponses(429, 503),
        401: unauthorized,
        404: notFound,
        409: errorResponse(409, 'HERMOD_COMMAND_FINISHED: the command already reached COMPLETED, REJECTED or TIMEOUT', 'HERMOD_COMMAND_FINISHED', 'Command 688 is already COMPLETED')
      }
    }
  }, async (request) => {
    const { commandId } = request.params
    const result = COMMAND_ID.test(commandId) ? await store.cancel(request.client!.group, commandId, clock.now()) : { kind: 'not-found' as const }
    if (result.kind === 'not-found') throw new HERMOD_COMMAND_NOT_FOUND()
    if (result.kind === 'decided' && result.command.state !== 'CANCELLED') throw new HERMOD_COMMAND_FINISHED(commandId, result.command.state)
    if (result.kind === 'ok') request.log.info({ commandId, clientId: request.client!.clientId }, 'command cancelled')
    return statusOf(result.command)
  })

  function statusOf (command: CommandRecord): object {
    const answered = command.answeredBy === undefined ? undefined : command.destinations[command.answeredBy]
    return {
      commandId: command.commandId,
      commandType: command.type.toUpperCase(),
      state: command.state,
      externalId: command.externalId,
      createdAt: new Date(command.createdAt).toISOString(),
      timeoutAt: new Date(command.timeoutAt).toISOString(),
      expiresAt: new Date(command.expiresAt).toISOString(),
      finishedAt: command.finishedAt === undefined ? undefined : new Date(command.finishedAt).toISOString(),
      destinations: destinationsOf(command),
      answeredBy: answered === undefined ? undefined : { to: answered.to, bid: answered.bid, mid: answered.mid },
      response: command.response === undefined ? undefined : JSON.parse(command.response)
    }
  }
}

/**
 * The payload's JSON text: the body without `commandHeader`. JSON.stringify leaves out members whose
 * value is undefined, so the header is hidden for the call instead of copying the body (object rest).
 */
export function payloadText (body: Record<string, unknown>): string {
  if (!Object.hasOwn(body, 'commandHeader')) return JSON.stringify(body)
  const header = body.commandHeader
  body.commandHeader = undefined
  try {
    return JSON.stringify(body)
  } finally {
    body.commandHeader = header
  }
}

/** Timeout and lifespan in seconds from the header, defaults and limits (protocol.md section 4). */
export function commandTimes (
  header: CommandHeader,
  limits: { defaultTimeout: number, defaultLifespan: number, maxTimeout: number, maxLifespan: number }
): { timeout: number, lifespan: number } {
  const timeout = header.timeout ?? header.lifespan ?? limits.defaultTimeout
  const lifespan = header.lifespan ?? header.timeout ?? Math.max(limits.defaultLifespan, timeout)
  const problems: string[] = []
  if (timeout > lifespan) problems.push(`commandHeader.timeout (${timeout}) must not exceed commandHeader.lifespan (${lifespan})`)
  if (timeout > limits.maxTimeout) problems.push(`commandHeader.timeout (${timeout}) exceeds the maximum of ${limits.maxTimeout} seconds`)
  if (lifespan > limits.maxLifespan) problems.push(`commandHeader.lifespan (${lifespan}) exceeds the maximum of ${limits.maxLifespan} seconds`)
  if (problems.length > 0) throw new HERMOD_INVALID_COMMAND(problems.join('; '))
  return { timeout, lifespan }
}
