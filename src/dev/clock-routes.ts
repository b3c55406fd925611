// Dev API on the embedded store: move the clock forward (to reach timeout and lifespan at once) and reset everything.
import type { FastifyInstance } from 'fastify'
import { MemoryMailboxStore } from '../mailbox/memory-store.js'
import { errorResponse, errorResponses } from '../server/routes/schemas.js'
import { isAdvanceable } from './dev-clock.js'
import { HERMOD_DEV_STORE_UNSUPPORTED } from './errors.js'
import type { DevServices } from './services.js'

const tags = ['development']
/** Commands timed out per sweep step after an advance. */
const SWEEP_BATCH = 500

/** `dev/api/clock`, `dev/api/clock/advance`, `dev/api/reset`. */
export async function clockRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { store, clock } = app.broker

  app.get('/api/clock', {
    schema: {
      summary: 'The broker\'s clock (the embedded store\'s can be advanced)',
      tags,
      response: {
        200: {
          description: 'The broker\'s time now, and whether POST clock/advance works here',
          type: 'object',
          properties: { now: { type: 'string', format: 'date-time' }, advanceable: { type: 'boolean' } }
        },
        ...errorResponses(401, 403)
      }
    }
  }, async () => ({ now: new Date(clock.now()).toISOString(), advanceable: store.name === 'memory' && isAdvanceable(clock) }))

  app.post<{ Body: { ms: number } }>('/api/clock/advance', {
    schema: {
      summary: 'Move the embedded store\'s clock forward by `ms`; due timeouts fire at once (their callbacks follow), past lifespans read 404',
      tags,
      body: { type: 'object', required: ['ms'], additionalProperties: false, properties: { ms: { type: 'integer', minimum: 0, maximum: 31_536_000_000 } } },
      response: {
        200: { description: 'The clock after the advance, and how many commands timed out', type: 'object', properties: { now: { type: 'string', format: 'date-time' }, timedOut: { type: 'integer' } } },
        ...errorResponses(400, 401, 403),
        409: errorResponse(409, 'HERMOD_DEV_STORE_UNSUPPORTED: the store is not the embedded one', 'HERMOD_DEV_STORE_UNSUPPORTED', 'The clock works on the embedded (memory) store only')
      }
    }
  }, async (request) => {
    if (store.name !== 'memory' || !isAdvanceable(clock)) throw new HERMOD_DEV_STORE_UNSUPPORTED('The clock')
    clock.advance(request.body.ms)
    // What the sweeper would do at its next tick, now: the caller sees the timeouts it caused.
    let timedOut = 0
    for (let claimed = SWEEP_BATCH; claimed === SWEEP_BATCH; timedOut += claimed) claimed = await store.claimDue(clock.now(), SWEEP_BATCH)
    request.log.info({ ms: request.body.ms, timedOut }, 'dev clock advanced')
    await options.dev.feed?.append({ at: new Date(clock.now()).toISOString(), kind: 'clock', count: timedOut })
    return { now: new Date(clock.now()).toISOString(), timedOut }
  })

  app.post('/api/reset', {
    schema: {
      summary: 'Forget every command, box and message of the embedded store, the delivery log and the dev sink\'s callbacks and faults',
      tags,
      response: {
        200: { description: 'Everything forgotten', type: 'object', properties: { reset: { type: 'boolean' } } },
        ...errorResponses(401, 403),
        409: errorResponse(409, 'HERMOD_DEV_STORE_UNSUPPORTED: the store is not the embedded one', 'HERMOD_DEV_STORE_UNSUPPORTED', 'Reset works on the embedded (memory) store only')
      }
    }
  }, async (request) => {
    if (!(store instanceof MemoryMailboxStore)) throw new HERMOD_DEV_STORE_UNSUPPORTED('Reset')
    store.reset()
    await options.dev.deliveries.clear()
    options.dev.sink.clear()
    request.log.info('dev reset')
    await options.dev.feed?.append({ at: new Date(clock.now()).toISOString(), kind: 'reset' })
    return { reset: true }
  })
}
