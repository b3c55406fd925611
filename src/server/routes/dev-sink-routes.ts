// The dev sink: a callback receiver inside the broker, so `npm start` shows callbacks with no other tool.
import type { FastifyInstance } from 'fastify'
import { HERMOD_FORBIDDEN } from '../errors.js'
import { isLoopback } from './loopback.js'

interface ReceivedCallback {
  receivedAt: string
  path: string
  webhookId?: string
  signed: boolean
  body: unknown
}

const KEPT = 100

/** Registered only with broker.dev-sink: true; both routes answer loopback callers only. */
export async function devSinkRoutes (app: FastifyInstance): Promise<void> {
  const received: ReceivedCallback[] = []

  app.addHook('onRequest', async (request) => {
    if (!isLoopback(request)) throw new HERMOD_FORBIDDEN('the dev sink answers loopback callers only')
  })

  const receive = async (request: { url: string, headers: Record<string, unknown>, body: unknown }): Promise<{ received: true }> => {
    const id = request.headers['webhook-id']
    received.unshift({
      receivedAt: new Date().toISOString(),
      path: request.url,
      ...(typeof id === 'string' ? { webhookId: id } : {}),
      signed: typeof request.headers['webhook-signature'] === 'string',
      body: request.body
    })
    received.length = Math.min(received.length, KEPT)
    return { received: true }
  }

  const hidden = { schema: { hide: true } }
  app.post('/dev/callback/:type', hidden, receive)
  app.post('/dev', hidden, receive)
  app.get('/dev/callbacks', {
    schema: { summary: `The last ${KEPT} callbacks the dev sink received, newest first`, tags: ['development'] }
  }, async () => ({ callbacks: received }))
}
