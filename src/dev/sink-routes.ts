// The dev sink: a callback receiver inside the broker, so `npm start` shows callbacks with no other tool; faults on demand.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorResponses } from '../server/routes/schemas.js'
import { faultStatus, sinkFaultsSchema, type SinkFaults } from './sink-faults.js'

interface ReceivedCallback {
  receivedAt: string
  path: string
  webhookId?: string
  signed: boolean
  /** The status the sink answered (or `hang`). */
  answered: number | 'hang'
  body: unknown
}

const KEPT = 100
const tags = ['development']

/** What the sink keeps between requests: the last callbacks and the current faults. */
export class DevSink {
  readonly received: ReceivedCallback[] = []
  faults: SinkFaults = {}
  /** Callbacks held by `hang`, released when the faults change or the app closes. */
  readonly hanging = new Set<() => void>()

  setFaults (faults: SinkFaults): void {
    this.faults = faults
    this.release()
  }

  release (): void {
    for (const release of this.hanging) release()
    this.hanging.clear()
  }

  clear (): void {
    this.received.length = 0
    this.setFaults({})
  }
}

/** Registered in the dev scope with broker.dev-sink: true. URLs: `dev/callback/{type}`, `dev`, `dev/callbacks`, `dev/api/sink/faults`. */
export async function devSinkRoutes (app: FastifyInstance, options: { sink: DevSink }): Promise<void> {
  const { sink } = options
  // preClose: before the server waits for its connections, which a hanging callback would hold.
  app.addHook('preClose', async () => { sink.release() })

  const receive = async (request: FastifyRequest, reply: FastifyReply): Promise<{ received: true }> => {
    const id = request.headers['webhook-id']
    const faults = sink.faults
    const answered = faultStatus(faults)
    sink.received.unshift({
      receivedAt: new Date().toISOString(),
      path: request.url,
      ...(typeof id === 'string' ? { webhookId: id } : {}),
      signed: typeof request.headers['webhook-signature'] === 'string',
      answered,
      body: request.body
    })
    sink.received.length = Math.min(sink.received.length, KEPT)
    if (answered === 'hang') {
      await new Promise<void>((resolve) => {
        sink.hanging.add(resolve)
        reply.raw.once('close', resolve)
      })
      void reply.code(503)
      return { received: true }
    }
    if ((faults.delayMs ?? 0) > 0) await sleep(faults.delayMs)
    void reply.code(answered)
    return { received: true }
  }

  const hidden = { schema: { hide: true } }
  app.post('/callback/:type', hidden, receive)
  app.post('/', hidden, receive)
  app.get('/callbacks', {
    schema: {
      summary: `The last ${KEPT} callbacks the dev sink received, newest first`,
      tags,
      response: {
        200: {
          description: 'The callbacks, newest first, with the status the sink answered',
          type: 'object',
          properties: {
            callbacks: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  receivedAt: { type: 'string', format: 'date-time' },
                  path: { type: 'string' },
                  webhookId: { type: 'string' },
                  signed: { type: 'boolean' },
                  answered: { description: 'The status answered, or `hang`', anyOf: [{ type: 'integer' }, { type: 'string', enum: ['hang'] }] },
                  body: { description: 'The callback body as received' }
                }
              }
            }
          }
        }
      }
    }
  }, async () => ({ callbacks: sink.received }))
  app.get('/api/sink/faults', {
    schema: { summary: 'The dev sink\'s current fault modes', tags, response: { 200: { ...sinkFaultsSchema, description: 'The fault modes now in force (`{}`: none)' } } }
  }, async () => sink.faults)
  app.put<{ Body: SinkFaults }>('/api/sink/faults', {
    schema: {
      summary: 'Set the dev sink\'s fault modes (replaces the current ones; `{}` answers 200 at once again). Releases hanging callbacks',
      tags,
      body: sinkFaultsSchema,
      response: { 200: { ...sinkFaultsSchema, description: 'The fault modes now in force' }, ...errorResponses(400, 401, 403) }
    }
  }, async (request) => {
    sink.setFaults(request.body)
    request.log.info({ faults: request.body }, 'dev sink faults set')
    return sink.faults
  })
}
