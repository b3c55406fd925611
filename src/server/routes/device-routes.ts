// The device side: list a box (long-poll), read a message, answer it once (protocol.md section 6).
import type { FastifyInstance } from 'fastify'
import { CONTENT_RETRY_AFTER_SECONDS, HERMOD_CONTENT_PROVIDER_FAILED } from '../../content/errors.js'
import { ContentProviderError } from '../../content/provider-client.js'
import { messageLocation } from '../../mailbox/links.js'
import type { BoxMessage } from '../../mailbox/types.js'
import { isUuid } from '../../mailbox/uuid.js'
import {
  HERMOD_BOX_NOT_FOUND, HERMOD_INVALID_REQUEST, HERMOD_MESSAGE_DECIDED, HERMOD_MESSAGE_NOT_FOUND,
  HERMOD_MESSAGE_TIMED_OUT
} from '../errors.js'
import { releaseFromInFlight } from '../load-shedding.js'
import { errorResponses } from './schemas.js'

const tags = ['device']

export async function deviceRoutes (app: FastifyInstance): Promise<void> {
  const { config, store, clock, waiters, content } = app.broker
  const maxWait = config.broker.maxLongPollSeconds

  const boxParams = { type: 'object', properties: { bid: { type: 'string' } } }
  const messageParams = { type: 'object', properties: { bid: { type: 'string' }, mid: { type: 'string' } } }

  app.get<{ Params: { bid: string }, Querystring: { token?: string, wait?: string } }>('/ms/:bid', {
    schema: {
      summary: 'List a box\'s pending messages, oldest first; with `wait`, hold an empty box until a message arrives',
      tags,
      params: boxParams,
      querystring: {
        type: 'object',
        properties: {
          token: { type: 'string', maxLength: 64, description: 'The box token from the command\'s `uri` (or header X-Hermod-Token)' },
          wait: { type: 'string', pattern: '^[0-9]{1,3}$', description: `Seconds to hold an empty box (0..${maxWait})` }
        }
      },
      headers: { type: 'object', properties: { 'x-hermod-token': { type: 'string', maxLength: 64 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            bid: { type: 'string' },
            messages: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  mid: { type: 'string' },
                  commandType: { type: 'string' },
                  location: { type: 'string' },
                  createdAt: { type: 'string', format: 'date-time' },
                  timeoutAt: { type: 'string', format: 'date-time' }
                }
              }
            }
          }
        },
        ...errorResponses(400, 404, 503)
      }
    }
  }, async (request) => {
    const { bid } = request.params
    const header = request.headers['x-hermod-token']
    const token = request.query.token ?? (typeof header === 'string' ? header : undefined)
    const wait = request.query.wait === undefined ? 0 : Number(request.query.wait)
    if (wait > maxWait) throw new HERMOD_INVALID_REQUEST(`wait must be between 0 and ${maxWait} seconds`)
    if (!isUuid(bid) || token === undefined || token.length > 64) throw new HERMOD_BOX_NOT_FOUND()
    const until = Date.now() + wait * 1000
    let messages: BoxMessage[] | null
    if (wait === 0) {
      messages = await store.listBox(bid, token, clock.now())
    } else {
      // Watch the box before listing it: a message landing while a listing runs wakes the next wait at once.
      // The socket is quiet while the poll waits: its idle timeout (server.idle-timeout-ms) starts after the wait.
      // Node sets it back to the keep-alive timeout when the answer is sent.
      const socket = request.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined
      if (typeof socket?.setTimeout === 'function') socket.setTimeout(wait * 1000 + config.server.timeouts.idle)
      const watch = waiters.watch(bid)
      // Waiting costs nothing: the poll leaves the in-flight count (load-shedding.ts) once its first listing is done.
      let released = false
      const gone = new AbortController()
      const onClose = (): void => gone.abort()
      request.raw.once('close', onClose)
      try {
        messages = await store.listBox(bid, token, clock.now())
        while (messages !== null && messages.length === 0 && !gone.signal.aborted && !app.broker.draining) {
          const left = until - Date.now()
          if (left <= 0) break
          if (!released) releaseFromInFlight(request, app.broker.inFlight)
          released = true
          await watch.next(left, gone.signal)
          messages = await store.listBox(bid, token, clock.now())
        }
      } finally {
        watch.close()
        request.raw.off('close', onClose)
      }
    }
    if (messages === null) throw new HERMOD_BOX_NOT_FOUND()
    return { bid, messages: messages.map((m: BoxMessage) => listed(bid, m)) }
  })

  function listed (bid: string, m: BoxMessage): object {
    return {
      mid: m.mid,
      commandType: m.type.toUpperCase(),
      location: messageLocation(config.publicUrl, bid, m.mid),
      createdAt: new Date(m.createdAt).toISOString(),
      timeoutAt: new Date(m.timeoutAt).toISOString()
    }
  }

  app.get<{ Params: { bid: string, mid: string } }>('/ms/:bid/:mid', {
    schema: {
      summary: 'Read a message: its header and the command payload, untouched (but for `application/hermod+content-id` items, resolved through the client\'s content provider: 502 HERMOD_CONTENT_PROVIDER_FAILED with Retry-After when it fails). 410 after the timeout, 409 once decided',
      tags,
      params: messageParams,
      response: { 200: { type: 'object', additionalProperties: true, description: '{ bid, mid, commandType, header: { lifespan, timeout, externalId, createdAt, timeoutAt }, command: { <x>Command: ... } }' }, ...errorResponses(404, 409, 410, 502, 503) }
    }
  }, async (request, reply) => {
    const { bid, mid } = request.params
    const result = isUuid(bid) && isUuid(mid) ? await store.readMessage(bid, mid, clock.now()) : { kind: 'not-found' as const }
    switch (result.kind) {
      case 'not-found': throw new HERMOD_MESSAGE_NOT_FOUND()
      case 'timed-out': throw new HERMOD_MESSAGE_TIMED_OUT()
      case 'decided': throw new HERMOD_MESSAGE_DECIDED(result.state)
    }
    const m = result.message
    let payload: string
    try {
      payload = await content.payloadFor(m, clock.now())
    } catch (err) {
      if (!(err instanceof ContentProviderError)) throw err
      void reply.header('retry-after', String(CONTENT_RETRY_AFTER_SECONDS))
      throw new HERMOD_CONTENT_PROVIDER_FAILED(err.message)
    }
    const header = JSON.stringify({
      lifespan: m.lifespanSeconds,
      timeout: m.timeoutSeconds,
      externalId: m.externalId,
      createdAt: new Date(m.createdAt).toISOString(),
      timeoutAt: new Date(m.timeoutAt).toISOString()
    })
    // The payload is spliced in as stored: the device gets the server system's JSON untouched.
    return reply.type('application/json; charset=utf-8').serializer((s: string) => s)
      .send(`{"bid":"${m.bid}","mid":"${m.mid}","commandType":"${m.type.toUpperCase()}","header":${header},"command":${payload}}`)
  })

  app.post<{ Params: { bid: string, mid: string }, Body: { status: 'OK' | 'REJECTED', response?: unknown } }>('/ms/:bid/:mid', {
    config: { validationCode: 'HERMOD_INVALID_ANSWER' },
    schema: {
      summary: 'Answer a message, once, while its command is in progress and before its timeout',
      tags,
      params: messageParams,
      body: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['OK', 'REJECTED'] },
          response: { description: 'What the device produced (JWS, PKCS#7, CSR, ...): stored and forwarded untouched' }
        }
      },
      response: { 200: { type: 'object', properties: { state: { type: 'string', enum: ['COMPLETED', 'REJECTED'] } } }, ...errorResponses(400, 404, 409, 410, 413, 415, 503) }
    }
  }, async (request) => {
    const { bid, mid } = request.params
    const answer = { status: request.body.status, response: JSON.stringify(request.body.response ?? null) }
    const result = isUuid(bid) && isUuid(mid) ? await store.answer(bid, mid, answer, clock.now()) : { kind: 'not-found' as const }
    switch (result.kind) {
      case 'not-found': throw new HERMOD_MESSAGE_NOT_FOUND()
      case 'timed-out': throw new HERMOD_MESSAGE_TIMED_OUT()
      case 'decided': throw new HERMOD_MESSAGE_DECIDED(result.state)
    }
    request.log.info({ bid, mid, state: result.state }, 'message answered')
    return { state: result.state }
  })
}
