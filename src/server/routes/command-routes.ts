// The server-system API: post a command, query its status, cancel it (X-Api-Key on every route).
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticateApiKey } from '../../auth/api-key.js'
import { messageLocation, plugoutUri } from '../../mailbox/links.js'
import { COMMAND_TYPES, type CommandRecord, type CommandType } from '../../mailbox/types.js'
import {
  HERMOD_COMMAND_FINISHED, HERMOD_COMMAND_NOT_FOUND, HERMOD_INVALID_COMMAND, HERMOD_INVALID_REQUEST,
  HERMOD_UNAUTHORIZED, HERMOD_UNKNOWN_COMMAND_TYPE
} from '../errors.js'
import { illFormedStringPath } from '../well-formed.js'
import { commandHeaderSchema, errorResponses } from './schemas.js'

const COMMAND_ID = /^[0-9]{1,20}$/
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

interface CommandHeader { lifespan?: number, timeout?: number, to?: string[], externalId?: string }

const security = [{ apiKey: [] }]

/** Registers the command routes; the API-key hook covers exactly this encapsulated scope. */
export async function commandRoutes (app: FastifyInstance): Promise<void> {
  const { config, store, clock, clients, metrics } = app.broker
  const limits = config.broker.commands
  const acceptedByType = Object.fromEntries(COMMAND_TYPES.map((type) => [type, metrics.accepted.labels({ type })])) as
    Record<CommandType, { inc: () => void }>

  // Callback style (here and in preValidation): no promise per request on the hottest path.
  app.addHook('onRequest', (request, _reply, done) => {
    const client = authenticateApiKey(request.headers['x-api-key'], clients)
    if (client === undefined) return done(new HERMOD_UNAUTHORIZED())
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

  app.post<{ Params: { type: string }, Body: Record<string, unknown> | undefined }>('/command/:type', {
    config: { validationCode: 'HERMOD_INVALID_COMMAND' },
    schema: {
      summary: 'Post a command (Hermod)',
      description: 'Every top-level member besides `commandHeader` is the payload, handed to the device untouched. Answers 200, as Hermod does. With `Idempotency-Key`, the same request again within the lifespan returns the first command.',
      tags: ['server system'],
      security,
      params: { type: 'object', properties: { type: { type: 'string', enum: [...COMMAND_TYPES], description: 'provision | certificate | authenticate | sign | ping' } } },
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 255, description: '1 to 255 visible ASCII characters' } } },
      body: { type: 'object', properties: { commandHeader: commandHeaderSchema(limits.maxDestinations) }, additionalProperties: true },
      response: { 200: { $ref: 'AcceptedCommand#' }, ...errorResponses(400, 401, 404, 413, 415, 422, 429, 503) }
    },
    // The type is checked before the body so that an unknown type is a 404, as protocol.md asks.
    preValidation: (request: FastifyRequest<{ Params: { type: string } }>, _reply: FastifyReply, done: (err?: Error) => void) => {
      const { type } = request.params
      if (!(COMMAND_TYPES as readonly string[]).includes(type)) return done(new HERMOD_UNKNOWN_COMMAND_TYPE(type.slice(0, 64)))
      if (request.body === undefined || request.body === null) {
        if (type !== 'ping') return done(new HERMOD_INVALID_COMMAND(`a ${type} command needs a JSON object body`))
        request.body = {}
      }
      done()
    }
  }, async (request, reply) => {
    const type = request.params.type as CommandType
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
  })

  const byId = {
    params: { type: 'object', properties: { commandId: { type: 'string', description: 'The commandId an accept returned' } } },
    tags: ['server system'],
    security
  }

  app.get<{ Params: { commandId: string } }>('/command/:commandId', {
    schema: {
      ...byId,
      summary: 'Query a command\'s state (kept until its lifespan)',
      response: { 200: { $ref: 'CommandStatus#' }, ...errorResponses(401, 404, 429, 503) }
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
      summary: 'Cancel a command still in progress (its devices then get 409; a CANCELLED callback is sent)',
      response: { 200: { $ref: 'CommandStatus#' }, ...errorResponses(401, 404, 409, 429, 503) }
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
