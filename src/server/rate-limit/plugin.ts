// Rate limits (@fastify/rate-limit): per server system on the command API, per box and per remote address on the device API.
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { isUuid } from '../../mailbox/uuid.js'
import { closeConnection } from '../../redis/connection.js'
import { ThrottledLog } from '../../redis/throttled-log.js'
import { HERMOD_RATE_LIMITED } from '../errors.js'
import { rateLimitKeyPrefix, type RateLimitSubject } from './keys.js'

export interface RateLimits {
  /**
   * Counts every request to the routes `scope` registers after this call against the budget of
   * `subject`, in a route-level onRequest hook: after the scope's own hooks (the API-key check that
   * names the client). Does nothing when `broker.rate-limit.enabled` is false.
   */
  protect: (scope: FastifyInstance, subject: RateLimitSubject) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    rateLimits: RateLimits
  }
}

const WHOSE: Record<RateLimitSubject, string> = { client: 'for this client', box: 'for this box', address: 'from this address' }

/** The counted key of a server system: its client id (never the API key), URI-encoded. */
const clientKey = (request: FastifyRequest): string => encodeURIComponent(request.client?.clientId ?? '')

/** The counted key of a device request: its box id; text that is no box id shares one key (it can only get a 404). */
function boxKey (request: FastifyRequest): string {
  const bid = (request.params as { bid?: string }).bid ?? ''
  return isUuid(bid) ? bid : '-'
}

async function rateLimitsPlugin (app: FastifyInstance): Promise<void> {
  const { config, metrics } = app.broker
  const settings = config.broker.rateLimit
  const failures = new ThrottledLog(app.log as unknown as Logger, 'rate limit not counted (Redis failed): requests are let through')
  let storeFor: ((subject: RateLimitSubject) => RateLimitPluginOptions['store']) | undefined
  if (settings.enabled && config.broker.store === 'redis') {
    // Loaded only when used, as the Redis store is: the embedded default never touches ioredis.
    const { counterConnection, failOpenRedisStore } = await import('./redis-counter.js')
    const connection = await counterConnection(config.broker.redis, (err) => { failures.error('rate-limit connection', err) })
    const countFailed = (err: Error): void => {
      metrics.rateLimitFailures.inc()
      failures.error('rate-limit count', err)
    }
    storeFor = (subject) => failOpenRedisStore(connection, rateLimitKeyPrefix(config.broker.redis.prefix, subject), countFailed)
    app.addHook('onClose', async () => { await closeConnection(connection) })
  }

  function optionsFor (subject: RateLimitSubject): RateLimitPluginOptions {
    const max = subject === 'client' ? settings.perClientMax : subject === 'box' ? settings.perBoxMax : settings.perAddressMax
    const exceeded = metrics.rateLimited.labels({ limit: subject })
    const windowSeconds = Math.ceil(settings.windowMs / 1000)
    // The address budget answers 429 with Retry-After only: the X-RateLimit-* headers describe the client's or the box's budget.
    const quiet = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false }
    return {
      global: true,
      max,
      timeWindow: settings.windowMs,
      hook: 'onRequest',
      // A count that fails (Redis down or slow) lets the request through; failOpenRedisStore logs it, throttled.
      skipOnError: true,
      cache: 10_000,
      ...(storeFor === undefined ? {} : { store: storeFor(subject) }),
      ...(subject === 'client' ? { keyGenerator: clientKey } : {}),
      ...(subject === 'box' ? { keyGenerator: boxKey } : {}),
      ...(subject === 'address' ? { addHeaders: { ...quiet, 'retry-after': true }, addHeadersOnExceeding: quiet } : {}),
      onExceeded: () => { exceeded.inc() },
      errorResponseBuilder: (_request, context) => {
        const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000))
        return new HERMOD_RATE_LIMITED(`at most ${context.max} requests per ${windowSeconds} s ${WHOSE[subject]}; retry after ${retryAfter} s`)
      }
    }
  }

  app.decorate<RateLimits>('rateLimits', {
    protect: async (scope, subject) => {
      if (settings.enabled) await scope.register(rateLimit, optionsFor(subject))
    }
  })
  if (settings.enabled) {
    const { windowMs, perClientMax, perBoxMax, perAddressMax } = settings
    app.log.info({ counted: storeFor === undefined ? 'memory' : 'redis', windowMs, perClientMax, perBoxMax, perAddressMax }, 'rate limits on')
  }
}

/** Decorates the app with `rateLimits`; the route plugins call `protect` in their own scopes. */
export const rateLimiting = fp(rateLimitsPlugin, { name: 'hermod-rate-limits' })
