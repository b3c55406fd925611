// Spring Boot style health: /actuator/health (+ liveness, readiness) reporting the store and the queue.
import type { FastifyInstance } from 'fastify'

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

export async function healthRoutes (app: FastifyInstance): Promise<void> {
  const { store, queue } = app.broker
  const healthSchema = {
    tags: ['operations'],
    response: {
      200: { type: 'object', properties: { status: { type: 'string' }, components: { type: 'object', additionalProperties: true } } },
      503: { type: 'object', properties: { status: { type: 'string' }, components: { type: 'object', additionalProperties: true } } }
    }
  }

  async function readiness (): Promise<{ status: Status, components: Record<string, { status: Status, details?: object }> }> {
    const [storeStatus, queueStatus] = await Promise.all([probe(() => store.ping(), 1000), probe(() => queue.ping(), 1000)])
    const components = {
      store: { status: storeStatus, details: { driver: store.name } },
      callbacks: { status: queueStatus }
    }
    const up = storeStatus === 'UP' && queueStatus === 'UP' && !app.broker.draining
    return { status: up ? 'UP' : 'DOWN', components }
  }

  // Health is not counted in flight (R29); liveness is never shed, the others say 503 while under-pressure sheds.
  app.get('/actuator/health', { config: { inFlight: false }, schema: { ...healthSchema, summary: 'Overall health: UP when the store and the callback queue answer' } }, async (_request, reply) => {
    const result = await readiness()
    return reply.code(result.status === 'UP' ? 200 : 503).send({
      status: result.status,
      components: { ...result.components, livenessState: { status: 'UP' }, readinessState: { status: result.status } }
    })
  })

  app.get('/actuator/health/liveness', {
    schema: { ...healthSchema, summary: 'UP while the process runs (also when it sheds load)' },
    config: { pressureHandler: () => undefined, inFlight: false }
  }, async () => ({ status: 'UP' }))

  app.get('/actuator/health/readiness', { config: { inFlight: false }, schema: { ...healthSchema, summary: 'UP when the broker can accept commands (store and queue reachable, not shutting down)' } }, async (_request, reply) => {
    const result = await readiness()
    return reply.code(result.status === 'UP' ? 200 : 503).send(result)
  })
}
