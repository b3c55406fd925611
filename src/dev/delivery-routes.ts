// Dev API: the delivery log and callbacks/wait, a long poll until a callback attempt was made.
import type { FastifyInstance } from 'fastify'
import { errorBody } from '../server/error-handler.js'
import { HERMOD_INVALID_REQUEST } from '../server/errors.js'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'
import type { TerminalState } from '../mailbox/types.js'
import { matchesDelivery, type DeliveryLogEntry, type DeliveryQuery } from './delivery-log.js'
import { HERMOD_WAIT_TIMEOUT } from './errors.js'
import { deliveryEntrySchema, deliveryQueryProperties } from './schemas.js'
import type { DevServices } from './services.js'

const tags = ['development']
/** Longest callbacks/wait, seconds. */
const MAX_WAIT_SECONDS = 300
/** A waiter also looks at the log this often, ms: an announcement lost in a Redis reconnect is found anyway. */
const RECHECK_MS = 2000

interface DeliveryQuerystring { commandId?: string, externalId?: string, state?: TerminalState, limit?: string }
interface WaitQuerystring { commandId?: string, externalId?: string, state?: TerminalState, until?: 'attempted' | 'delivered', timeout?: string }

/** `dev/api/callbacks` (the delivery log) and `dev/api/callbacks/wait`. */
export async function deliveryRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { deliveries } = options.dev
  const stopWaits = new Set<() => void>()
  app.addHook('preClose', async () => { for (const stop of stopWaits) stop() })

  app.get<{ Querystring: DeliveryQuerystring }>('/api/callbacks', {
    schema: {
      summary: 'The delivery log: every callback attempt (URL, masked headers, body, status, latency, error, next retry), newest first',
      tags,
      querystring: { type: 'object', additionalProperties: false, properties: { ...deliveryQueryProperties, limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'At most this many (default 100)' } } },
      response: {
        200: { description: 'The matching attempts, newest first', type: 'object', properties: { deliveries: { type: 'array', items: deliveryEntrySchema } } },
        ...errorResponses(400, 401, 403)
      }
    }
  }, async (request) => {
    const { limit = '100', ...query } = request.query
    return { deliveries: await deliveries.list(query, Math.max(1, Number(limit))) }
  })

  app.delete('/api/callbacks', {
    schema: {
      summary: 'Empty the delivery log',
      tags,
      response: { 200: { description: 'Emptied', type: 'object', properties: { cleared: { type: 'boolean', enum: [true] } } }, ...errorResponses(401, 403) }
    }
  }, async () => {
    await deliveries.clear()
    return { cleared: true }
  })

  app.get<{ Querystring: WaitQuerystring }>('/api/callbacks/wait', {
    schema: {
      summary: 'Long-poll until a callback attempt for the command (by commandId or externalId) was made, or delivered with until=delivered; 408 HERMOD_WAIT_TIMEOUT past `timeout` seconds',
      tags,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...deliveryQueryProperties,
          until: { type: 'string', enum: ['attempted', 'delivered'], default: 'attempted' },
          timeout: { type: 'string', pattern: '^[0-9]{1,3}$', description: `Seconds to wait, 0..${MAX_WAIT_SECONDS} (default 30)` }
        }
      },
      response: {
        200: { ...deliveryEntrySchema, description: 'The first matching attempt' },
        ...errorResponses(400, 401, 403),
        408: errorResponse(408, 'HERMOD_WAIT_TIMEOUT: no matching attempt within `timeout` seconds', 'HERMOD_WAIT_TIMEOUT', 'No matching callback attempt within 30 s'),
        503: errorResponse(503, 'HERMOD_SHUTTING_DOWN: the broker stopped while waiting', 'HERMOD_SHUTTING_DOWN', 'The broker is shutting down')
      }
    }
  }, async (request, reply) => {
    const { commandId, externalId, state, until = 'attempted' } = request.query
    const timeout = Number(request.query.timeout ?? '30')
    if (commandId === undefined && externalId === undefined) throw new HERMOD_INVALID_REQUEST('give commandId or externalId')
    if (timeout > MAX_WAIT_SECONDS) throw new HERMOD_INVALID_REQUEST(`timeout must be between 0 and ${MAX_WAIT_SECONDS} seconds`)
    const query: DeliveryQuery = {
      ...(commandId === undefined ? {} : { commandId }),
      ...(externalId === undefined ? {} : { externalId }),
      ...(state === undefined ? {} : { state }),
      deliveredOnly: until === 'delivered'
    }
    let settle: (entry: DeliveryLogEntry | 'timeout' | 'closing') => void = () => {}
    const outcome = new Promise<DeliveryLogEntry | 'timeout' | 'closing'>((resolve) => { settle = resolve })
    // Listen first, then look: an attempt logged in between is heard, not missed.
    const unsubscribe = deliveries.onAppend((entry) => { if (matchesDelivery(entry, query)) settle(entry) })
    const stop = (): void => settle('closing')
    stopWaits.add(stop)
    const timer = setTimeout(() => settle('timeout'), timeout * 1000)
    const look = async (): Promise<void> => {
      const [logged] = await deliveries.list(query, 1)
      if (logged !== undefined) settle(logged)
    }
    const recheck = setInterval(() => { look().catch(() => {}) }, RECHECK_MS)
    const onGone = (): void => settle('closing')
    request.raw.socket?.once('close', onGone)
    try {
      await look()
      const result = await outcome
      if (result === 'timeout') throw new HERMOD_WAIT_TIMEOUT(String(timeout))
      if (result === 'closing') {
        return await reply.code(503).header('retry-after', '1').send(errorBody(503, 'HERMOD_SHUTTING_DOWN', 'The broker is shutting down'))
      }
      return result
    } finally {
      clearTimeout(timer)
      clearInterval(recheck)
      unsubscribe()
      stopWaits.delete(stop)
      request.raw.socket?.off('close', onGone)
    }
  })
}
