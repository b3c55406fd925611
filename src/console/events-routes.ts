// Dev API: the console's event feed as server-sent events (resumable with Last-Event-ID), and a command's timeline.
import type { FastifyInstance } from 'fastify'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'
import type { DevServices } from '../dev/services.js'
import { HERMOD_TOO_MANY_STREAMS } from './errors.js'
import { compareFeedIds, FEED_SIZE, type ConsoleEvent, type ConsoleFeed } from './feed.js'

const tags = ['development']
/** A comment line this often keeps proxies and the browser from closing an idle stream, ms. */
const HEARTBEAT_MS = 15_000
/** Events replayed to a reconnecting client at most; past that it is told to reload (`event: gap`). */
const REPLAY_LIMIT = 1000
/** Event streams one instance holds at most (each open console tab is one). */
export const MAX_STREAMS = 64
const FEED_ID = /^[0-9]{1,20}(-[0-9]{1,20})?$/

export const consoleEventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    kind: { type: 'string', enum: ['accepted', 'read', 'answered', 'cancelled', 'timeout', 'callback', 'clock', 'reset'] },
    commandId: { type: 'string' },
    bid: { type: 'string' },
    mid: { type: 'string' },
    state: { type: 'string' },
    count: { type: 'integer' },
    attempt: { type: 'integer' },
    outcome: { type: 'string' },
    status: { type: 'integer' }
  }
} as const

/** `dev/api/events` (text/event-stream) and `dev/api/commands/{commandId}/timeline`. */
export async function eventsRoutes (app: FastifyInstance, options: { dev: DevServices, feed: ConsoleFeed }): Promise<void> {
  const { feed } = options
  const streams = new Set<() => void>()
  app.addHook('preClose', async () => { for (const end of [...streams]) end() })

  app.get<{ Querystring: { lastEventId?: string } }>('/api/events', {
    schema: {
      summary: 'The console feed as server-sent events: accepted, read, answered, cancelled, timeout, callback (every instance\'s, on the Redis store). ' +
        'Resumes after the Last-Event-ID header (or lastEventId); `event: gap` when events were dropped since (reload the listing)',
      tags,
      produces: ['text/event-stream'],
      querystring: { type: 'object', additionalProperties: false, properties: { lastEventId: { type: 'string', maxLength: 45 } } },
      response: {
        200: { type: 'string', description: 'text/event-stream: `id:`, `event: <kind>`, `data: <ConsoleEvent JSON>`' },
        ...errorResponses(400, 401, 403),
        503: errorResponse(503, 'HERMOD_TOO_MANY_STREAMS: this instance holds its most event streams; HERMOD_STORE_UNAVAILABLE', 'HERMOD_TOO_MANY_STREAMS',
          'This instance holds 64 event streams already; close a console')
      }
    }
  }, async (request, reply) => {
    const header = request.headers['last-event-id']
    const given = typeof header === 'string' && header !== '' ? header : request.query.lastEventId
    const lastEventId = given !== undefined && FEED_ID.test(given) ? given : undefined
    if (streams.size >= MAX_STREAMS) throw new HERMOD_TOO_MANY_STREAMS(String(MAX_STREAMS))
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    raw.write('retry: 2000\n\n')
    let sent = lastEventId
    const send = (event: ConsoleEvent): void => {
      if (sent !== undefined && compareFeedIds(event.id, sent) <= 0) return
      sent = event.id
      raw.write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`)
    }
    // Subscribe first, then replay: what is appended in between is buffered, then sent in order.
    let buffered: ConsoleEvent[] | undefined = []
    const unsubscribe = feed.subscribe((event) => { if (buffered === undefined) send(event); else buffered.push(event) })
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS)
    const end = (): void => {
      clearInterval(heartbeat)
      unsubscribe()
      streams.delete(end)
      raw.end()
    }
    streams.add(end)
    request.raw.once('close', end)
    try {
      if (lastEventId !== undefined) {
        const { events, gap } = await feed.since(lastEventId, REPLAY_LIMIT)
        const newest = events.length > 0 ? undefined : (await feed.since(undefined, 1)).events.at(-1)
        if (events.length === 0 && (newest === undefined || compareFeedIds(lastEventId, newest.id) > 0)) {
          // An id this feed never handed out (the broker or its Redis restarted): start over from the newest.
          sent = newest?.id
          raw.write(`${newest === undefined ? '' : `id: ${newest.id}\n`}event: gap\ndata: {}\n\n`)
        } else if (gap) {
          raw.write('event: gap\ndata: {}\n\n')
        }
        for (const event of events) send(event)
      } else {
        // A fresh client starts at the newest event: it loads the listing itself.
        const { events } = await feed.since(undefined, 1)
        const newest = events.at(-1)
        if (newest !== undefined) { sent = newest.id; raw.write(`id: ${newest.id}\nevent: hello\ndata: {}\n\n`) }
      }
    } catch {
      raw.write('event: gap\ndata: {}\n\n')
    }
    const waiting = buffered
    buffered = undefined
    for (const event of waiting) send(event)
  })

  app.get('/api/console', {
    schema: {
      summary: 'What the console page needs to know of this broker: its paths, store and clock',
      tags,
      response: {
        200: {
          description: 'The broker\'s paths, store and clock',
          type: 'object',
          properties: {
            contextPath: { type: 'string' },
            devicePath: { type: 'string', description: 'Where the device API lives on this origin: {devicePath}/{bid}/{mid}' },
            store: { type: 'string' },
            now: { type: 'string', format: 'date-time' },
            advanceable: { type: 'boolean' }
          }
        },
        ...errorResponses(401, 403)
      }
    }
  }, async () => {
    const { config, store, clock } = app.broker
    return {
      contextPath: config.server.contextPath,
      devicePath: `${config.server.contextPath}${config.uriBase}/ms`,
      store: store.name,
      now: new Date(clock.now()).toISOString(),
      advanceable: store.name === 'memory' && 'advance' in clock
    }
  })

  app.get<{ Params: { commandId: string } }>('/api/commands/:commandId/timeline', {
    schema: {
      summary: 'What the console feed recorded for one command, oldest first: accepted, read, answered, cancelled, callback attempts',
      tags,
      params: { type: 'object', properties: { commandId: { type: 'string', pattern: '^[0-9]{1,20}$' } } },
      response: { 200: { description: 'The recorded events, oldest first', type: 'object', properties: { events: { type: 'array', items: consoleEventSchema } } }, ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => {
    const { commandId } = request.params
    const { store, clock } = app.broker
    const [command] = await store.peekCommands({ limit: 1, match: (c) => c.commandId === commandId }, clock.now())
    const { events } = await feed.since(undefined, FEED_SIZE)
    const mids = new Set(command?.destinations.map((d) => d.mid) ?? [])
    for (const e of events) if (e.commandId === commandId && e.mid !== undefined) mids.add(e.mid)
    const ours = (e: ConsoleEvent): boolean =>
      e.commandId === commandId || (e.commandId === undefined && e.mid !== undefined && mids.has(e.mid))
    const found = events.filter(ours)
    // The sweeper times commands out in batches (its feed event has a count, no ids): the command's own record says when.
    if (command?.state === 'TIMEOUT' && !found.some((e) => e.kind === 'timeout')) {
      const at = new Date(command.finishedAt ?? command.timeoutAt).toISOString()
      const timedOut: ConsoleEvent = { id: '', at, kind: 'timeout', commandId, state: 'TIMEOUT' }
      const index = found.findIndex((e) => e.at > at)
      found.splice(index < 0 ? found.length : index, 0, timedOut)
    }
    return { events: found }
  })
}
