// Dev API: commands and boxes listed and filtered, and a peek at one command; none of it changes state.
import type { FastifyInstance } from 'fastify'
import { plugoutUri, messageLocation } from '../mailbox/links.js'
import type { PeekedCommand } from '../mailbox/store.js'
import { personalLink } from '../console/links.js'
import { HERMOD_INVALID_REQUEST } from '../server/errors.js'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'
import { HERMOD_DEV_COMMAND_NOT_FOUND } from './errors.js'
import { FilterSyntaxError, matchesCommand, parseCommandFilter, type CommandFilter } from './filter.js'
import { listedCommandSchema } from './schemas.js'

const tags = ['development']

interface ListQuerystring {
  q?: string
  type?: string
  state?: string
  group?: string
  client?: string
  externalId?: string
  age?: string
  limit?: string
}

const listQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 2000, description: 'Filter text: `type:sign state:timeout client:prime-server1 ext:order-* group:acme box:<bid|name> age:<5m` (`key:a,b` for alternatives)' },
    type: { type: 'string', maxLength: 200 },
    state: { type: 'string', maxLength: 200 },
    group: { type: 'string', maxLength: 256 },
    client: { type: 'string', maxLength: 256 },
    externalId: { type: 'string', maxLength: 1024, description: 'A glob: `*` matches any run of characters' },
    age: { type: 'string', maxLength: 40, description: '`<5m` younger than, `>1h` older than' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'At most this many (default 100)' }
  }
} as const

/** The filter of a listing request: the `q` text and the single parameters, parsed by one module (filter.ts). */
function filterOf (query: ListQuerystring): CommandFilter {
  const parts = [query.q ?? '']
  for (const [param, key] of [['type', 'type'], ['state', 'state'], ['group', 'group'], ['client', 'client'], ['externalId', 'ext'], ['age', 'age']] as const) {
    const value = query[param]
    if (value !== undefined) parts.push(`${key}:${value.replace(/\s+/g, '')}`)
  }
  try {
    return parseCommandFilter(parts.join(' '))
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new HERMOD_INVALID_REQUEST(err.message)
    throw err
  }
}

/** `dev/api/commands`, `dev/api/commands/{commandId}` (peek), `dev/api/boxes`. */
export async function listingRoutes (app: FastifyInstance): Promise<void> {
  const { store, clock, config } = app.broker

  const listed = (command: PeekedCommand, now: number, withPayload: boolean): object => ({
    commandId: command.commandId,
    commandType: command.type.toUpperCase(),
    state: command.state,
    group: command.group,
    clientId: command.clientId,
    ...(command.externalId === undefined ? {} : { externalId: command.externalId }),
    createdAt: new Date(command.createdAt).toISOString(),
    timeoutAt: new Date(command.timeoutAt).toISOString(),
    expiresAt: new Date(command.expiresAt).toISOString(),
    ...(command.finishedAt === undefined ? {} : { finishedAt: new Date(command.finishedAt).toISOString() }),
    ageMs: now - command.createdAt,
    destinations: command.destinations.map((d) => ({
      ...d,
      uri: plugoutUri(config.publicUrl, d.bid, d.token),
      location: messageLocation(config.publicUrl, d.bid, d.mid),
      personal: personalLink(config.publicUrl, d.bid, d.token)
    })),
    ...(command.answeredBy === undefined ? {} : { answeredBy: command.answeredBy }),
    ...(command.response === undefined ? {} : { response: JSON.parse(command.response) as unknown }),
    ...(withPayload && command.payload !== undefined ? { payload: JSON.parse(command.payload) as unknown } : {})
  })

  const peek = async (query: ListQuerystring): Promise<{ now: number, commands: PeekedCommand[] }> => {
    const filter = filterOf(query)
    const now = clock.now()
    const group = filter.groups?.length === 1 ? filter.groups[0] : undefined
    const commands = await store.peekCommands({
      limit: Math.max(1, Number(query.limit ?? '100')),
      match: (c) => matchesCommand(filter, c, now),
      ...(group === undefined ? {} : { group })
    }, now)
    return { now, commands }
  }

  app.get<{ Querystring: ListQuerystring }>('/api/commands', {
    schema: {
      summary: 'Commands within their lifespan, newest first, filtered; a peek that never changes state',
      tags,
      querystring: listQuerystring,
      response: {
        200: { description: 'The matching commands, newest first', type: 'object', properties: { commands: { type: 'array', items: listedCommandSchema } } },
        ...errorResponses(400, 401, 403, 503)
      }
    }
  }, async (request) => {
    const { now, commands } = await peek(request.query)
    return { commands: commands.map((c) => listed(c, now, false)) }
  })

  app.get<{ Params: { commandId: string } }>('/api/commands/:commandId', {
    schema: {
      summary: 'Peek at one command with its payload (any group; nothing changes, not even a due timeout)',
      tags,
      params: { type: 'object', properties: { commandId: { type: 'string', pattern: '^[0-9]{1,20}$' } } },
      response: {
        200: { ...listedCommandSchema, description: 'The command, with its payload while undecided' },
        ...errorResponses(400, 401, 403, 503),
        404: errorResponse(404, 'HERMOD_DEV_COMMAND_NOT_FOUND: no such command (in any group), or past its lifespan', 'HERMOD_DEV_COMMAND_NOT_FOUND', 'No such command')
      }
    }
  }, async (request) => {
    const now = clock.now()
    const { commandId } = request.params
    const [command] = await store.peekCommands({ limit: 1, match: (c) => c.commandId === commandId }, now)
    if (command === undefined) throw new HERMOD_DEV_COMMAND_NOT_FOUND()
    return listed(command, now, true)
  })

  app.get<{ Querystring: ListQuerystring }>('/api/boxes', {
    schema: {
      summary: 'Boxes of the commands the same filter selects, with their messages (a peek)',
      tags,
      querystring: listQuerystring,
      response: {
        200: {
          description: 'The boxes of the matching commands, with their messages',
          type: 'object',
          properties: {
            boxes: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  bid: { type: 'string' },
                  to: { type: 'string' },
                  group: { type: 'string' },
                  token: { type: 'string' },
                  uri: { type: 'string' },
                  messages: {
                    type: 'array',
                    items: { type: 'object', properties: { mid: { type: 'string' }, commandId: { type: 'string' }, commandType: { type: 'string' }, state: { type: 'string' }, location: { type: 'string' } } }
                  }
                }
              }
            }
          }
        },
        ...errorResponses(400, 401, 403, 503)
      }
    }
  }, async (request) => {
    const { commands } = await peek(request.query)
    const boxes = new Map<string, { bid: string, to: string, group: string, token: string, uri: string, messages: object[] }>()
    for (const command of commands) {
      for (const d of command.destinations) {
        let box = boxes.get(d.bid)
        if (box === undefined) {
          const uri = plugoutUri(config.publicUrl, d.bid, d.token)
          box = { bid: d.bid, to: d.to, group: command.group, token: d.token, uri, messages: [] }
          boxes.set(d.bid, box)
        }
        box.messages.push({
          mid: d.mid,
          commandId: command.commandId,
          commandType: command.type.toUpperCase(),
          state: command.state,
          location: messageLocation(config.publicUrl, d.bid, d.mid)
        })
      }
    }
    return { boxes: [...boxes.values()] }
  })
}
