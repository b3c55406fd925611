// Spring Boot style health: /actuator/health (+ liveness, readiness) reporting the store and the queue; /actuator/prometheus.
import type { FastifyInstance } from 'fastify'
import { okResponse } from './schemas.js'

type Status = 'UP' | 'DOWN'

/** Resolves UP when `check` settles within `ms`, DOWN otherwise. */
async function probe (check: () => Promise<void>, ms: number): Promise<Status> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Status>((resolve) => { timer = setTimeout(() => resolve('DOWN'), ms) })
  try {
    return await Promise.race([check().then(() => 'UP' as const, () => 'DOWN' as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const status = { type: 'string', enum: ['UP', 'DOWN'] }
const componentSchema = { type: 'object', properties: { status, details: { type: 'object', additionalProperties: true } } }
const healthBody = {
  type: 'object',
  properties: { status, components: { type: 'object', additionalProperties: componentSchema } },
  required: ['status']
}
const up = { status: 'UP', components: { store: { status: 'UP', details: { driver: 'redis' } }, callbacks: { status: 'UP' } } }
const down = { status: 'DOWN', components: { store: { status: 'DOWN', details: { driver: 'redis' } }, callbacks: { status: 'UP' } } }

export async function healthRoutes (app: FastifyInstance): Promise<void> {
  const { store, queue, metrics } = app.broker
  const tags = ['operations']
  const security: Array<Record<string, string[]>> = []
  const healthResponses = {
    200: okResponse('UP: the store and the callback queue answer', healthBody, up),
    // Shutting down is answered before the route by the draining hook, with a HermodError (HERMOD_SHUTTING_DOWN).
    503: okResponse('DOWN: the store or the callback queue did not answer within 1 s; or HERMOD_SHUTTING_DOWN / HERMOD_OVERLOADED as a HermodError',
      { anyOf: [healthBody, { $ref: 'HermodError#' }] }, down)
  }

  async function readiness (): Promise<{ status: Status, components: Record<string, { status: Status, details?: object }> }> {
    const [storeStatus, queueStatus] = await Promise.all([probe(() => store.ping(), 1000), probe(() => queue.ping(), 1000)])
    const components = {
      store: { status: storeStatus, details: { driver: store.name } },
      callbacks: { status: queueStatus }
    }
    const isUp = storeStatus === 'UP' && queueStatus === 'UP' && !app.broker.draining
    return { status: isUp ? 'UP' : 'DOWN', components }
  }

  // Health is not counted in flight (R29); liveness is never shed, the others say 503 while under-pressure sheds.
  app.get('/actuator/health', {
    config: { inFlight: false },
    schema: { operationId: 'health', summary: 'Overall health: UP when the store and the callback queue answer', tags, security, response: healthResponses }
  }, async (_request, reply) => {
    const result = await readiness()
    return reply.code(result.status === 'UP' ? 200 : 503).send({
      status: result.status,
      components: { ...result.components, livenessState: { status: 'UP' }, readinessState: { status: result.status } }
    })
  })

  app.get('/actuator/health/liveness', {
    schema: {
      operationId: 'liveness',
      summary: 'UP while the process runs (also when it sheds load)',
      tags,
      security,
      response: { 200: okResponse('UP: the process runs', { type: 'object', properties: { status }, required: ['status'] }, { status: 'UP' }) }
    },
    config: { pressureHandler: () => undefined, inFlight: false }
  }, async () => ({ status: 'UP' }))

  app.get('/actuator/health/readiness', {
    config: { inFlight: false },
    schema: {
      operationId: 'readiness',
      summary: 'UP when the broker can accept commands (store and queue reachable, not shutting down)',
      tags,
      security,
      response: healthResponses
    }
  }, async (_request, reply) => {
    const result = await readiness()
    return reply.code(result.status === 'UP' ? 200 : 503).send(result)
  })

  app.get('/actuator/prometheus', {
    schema: {
      operationId: 'prometheus',
      summary: 'Prometheus metrics: hermod_commands_*, hermod_callback_*, hermod_http_request_duration_seconds, the process\'s hermod_* defaults',
      tags,
      security,
      produces: ['text/plain'],
      response: { 200: okResponse('The Prometheus text exposition format, version 0.0.4', { type: 'string' }, 'hermod_commands_accepted_total{type="sign"} 17\n', 'text/plain') }
    }
  }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
