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
import { errorResponse, errorResponses, okResponse } from './schemas.js'

const tags = ['device']
/** The device API needs no credentials: knowing the box token (list) or both UUIDs (read, answer) is the capability. */
const security: Array<Record<string, string[]>> = []
const BID = '11318956-2040-4360-941d-437e4ddd810c'
const MID = '14fc191a-a0a3-4ae3-929a-e37efafdb510'
const LOCATION = `https://broker.example:20400/hermod/rest/ms/${BID}/${MID}`
const messageNotFound = errorResponse(404, 'HERMOD_MESSAGE_NOT_FOUND: no such box or message, or past the command\'s lifespan', 'HERMOD_MESSAGE_NOT_FOUND', 'No such message')
const decided = errorResponse(409, 'HERMOD_MESSAGE_DECIDED: the command was already answered (here or at another destination) or cancelled',
  'HERMOD_MESSAGE_DECIDED', 'The command of this message is already COMPLETED')
const timedOut = errorResponse(410, 'HERMOD_MESSAGE_TIMED_OUT: the command timed out; its messages were withdrawn')

export async function deviceRoutes (app: FastifyInstance): Promise<void> {
  const { config, store, clock, waiters, content } = app.broker
  const maxWait = config.broker.maxLongPollSeconds

  const boxParams = { type: 'object', properties: { bid: { type: 'string', description: 'The box id (`bid` of a destination)', examples: [BID] } } }
  const messageParams = {
    type: 'object',
    properties: { bid: { type: 'string', description: 'The box id', examples: [BID] }, mid: { type: 'string', description: 'The message id (`mid` of a destination)', examples: [MID] } }
  }
  // Per remote address, then per box; a long poll is one request however long it waits.
  await app.rateLimits.protect(app, 'address')
  await app.rateLimits.protect(app, 'box')

  app.get<{ Params: { bid: string }, Querystring: { token?: string, wait?: string } }>('/ms/:bid', {
    schema: {
      operationId: 'listBox',
      summary: 'List a box\'s pending messages, oldest first; with `wait`, hold an empty box until a message arrives',
      tags,
      security,
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
        200: okResponse('The box\'s pending messages, oldest first (empty when `wait` ended without one)', {
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
        }, { bid: BID, messages: [{ mid: MID, commandType: 'SIGN', location: LOCATION, createdAt: '2026-01-01T12:00:00.000Z', timeoutAt: '2026-01-01T12:00:30.000Z' }] }),
        ...errorResponses(429, 503),
        400: errorResponse(400, `HERMOD_INVALID_REQUEST: \`wait\` is not 0..${maxWait}, or a parameter is malformed`, 'HERMOD_INVALID_REQUEST', `Invalid request: wait must be between 0 and ${maxWait} seconds`),
        404: errorResponse(404, 'HERMOD_BOX_NOT_FOUND: no such box, or a missing or wrong token (the same answer)', 'HERMOD_BOX_NOT_FOUND', 'No such box')
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
        await watch.ready()
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
      operationId: 'readMessage',
      tags,
      security,
      params: messageParams,
      response: {
        200: okResponse('The message: its header and the command payload as posted (without commandHeader)', {
          type: 'object',
          properties: {
            bid: { type: 'string' },
            mid: { type: 'string' },
            commandType: { type: 'string' },
            header: {
              type: 'object',
              properties: {
                lifespan: { type: 'integer' },
                timeout: { type: 'integer' },
                externalId: { type: 'string' },
                createdAt: { type: 'string', format: 'date-time' },
                timeoutAt: { type: 'string', format: 'date-time' }
              }
            },
            command: { type: 'object', additionalProperties: true, description: 'The payload: `{ "<x>Command": ... }`, untouched' }
          },
          required: ['bid', 'mid', 'commandType', 'header', 'command']
        }, {
          bid: BID,
          mid: MID,
          commandType: 'SIGN',
          header: { lifespan: 30, timeout: 30, createdAt: '2026-01-01T12:00:00.000Z', timeoutAt: '2026-01-01T12:00:30.000Z' },
          command: { signCommand: { params: { format: 'pkcs7', mechanism: 'CKM_SHA256_RSA_PKCS' } } }
        }),
        ...errorResponses(429, 503),
        404: messageNotFound,
        409: decided,
        410: timedOut,
        502: errorResponse(502, 'HERMOD_CONTENT_PROVIDER_FAILED: the client\'s content provider failed; try again after Retry-After', 'HERMOD_CONTENT_PROVIDER_FAILED',
          'The content provider of this command could not be reached or answered badly (HTTP 500); try again')
      }
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
      operationId: 'answerMessage',
      summary: 'Answer a message, once, while its command is in progress and before its timeout',
      tags,
      security,
      params: messageParams,
      body: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['OK', 'REJECTED'] },
          // `{}` first: any JSON passes at once (Ajv stops at the first valid branch); DeviceAnswer documents the virtual device's.
          response: { description: 'What the device produced (JWS, PKCS#7, CSR, ...): stored and forwarded untouched', anyOf: [{}, { $ref: 'DeviceAnswer#' }] }
        },
        examples: [{ status: 'OK', response: { signatures: [{ key: 'tbs', keyid: 'signer', format: 'pkcs7', mechanism: 'CKM_SHA256_RSA_PKCS', signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' }] } }]
      },
      response: {
        200: okResponse('Decided: COMPLETED (status OK) or REJECTED; the callback follows', { type: 'object', properties: { state: { type: 'string', enum: ['COMPLETED', 'REJECTED'] } } }, { state: 'COMPLETED' }),
        ...errorResponses(413, 415, 429, 503),
        400: errorResponse(400, 'HERMOD_INVALID_ANSWER: `status` missing or not OK / REJECTED; HERMOD_INVALID_JSON: the body is not JSON', 'HERMOD_INVALID_ANSWER',
          'Invalid answer: body must have required property \'status\''),
        404: messageNotFound,
        409: decided,
        410: timedOut
      }
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
