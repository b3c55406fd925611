// buildApp(): the whole HTTP surface as a Fastify instance that never listens (tests inject into it).
import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import swagger from '@fastify/swagger'
import underPressure from '@fastify/under-pressure'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { ServerOptions as HttpsOptions } from 'node:https'
import type { Logger } from 'pino'
import type { BrokerSettings } from '../config/types.js'
import type { BrokerContext } from './context.js'
import { answerParserRefusals, errorBody, handleClientError, registerErrorHandling, sendFrameworkError } from './error-handler.js'
import { brokerServerFactory } from './http-server.js'
import { registerJsonBodyParser } from './json-body.js'
import { ShedSummary, type PressureCheck, type ShedReason } from './load-shedding.js'
import { registerMetrics } from './metrics.js'
import { swaggerOptions } from './openapi.js'
import { rateLimiting } from './rate-limit/plugin.js'
import { redactUrl } from './redact.js'
import { LazyRequestLogger, requestId } from './request-logger.js'
import { adminRoutes } from './routes/admin-routes.js'
import { commandRoutes } from './routes/command-routes.js'
import { deviceRoutes } from './routes/device-routes.js'
import { healthRoutes } from './routes/health-routes.js'
import { sharedSchemas } from './routes/schemas.js'
import { utilRoutes } from './routes/util-routes.js'
import { devRoutes } from '../dev/routes.js'
import { consolePageRoutes } from '../console/page-routes.js'

export interface BuildAppOptions {
  /** A pino logger (start.ts builds it); tests may pass none. */
  logger?: Logger
  /** The process's server options: the TLS options when it listens with TLS (start.ts). */
  server?: { https?: HttpsOptions | null }
  /** `operations`: health and metrics only (a `--role worker` instance); default `all`, the whole API. */
  routes?: 'all' | 'operations'
}

/**
 * under-pressure's memory limits: as configured (0 turns one off), else derived from V8's heap limit:
 * heap used above 90 % of it, RSS above 1.5 times it, and at most 90 % of the memory a cgroup allows
 * when that is less than the machine has: shedding starts before V8 or the OOM killer ends the process.
 */
export function memoryLimits (
  overload: Pick<BrokerSettings['overload'], 'maxHeapUsedBytes' | 'maxRssBytes'>,
  heapLimit = getHeapStatistics().heap_size_limit,
  machine = { total: totalmem(), constrained: process.constrainedMemory() ?? 0 }
): { maxHeapUsedBytes: number, maxRssBytes: number } {
  const cgroup = machine.constrained > 0 && machine.constrained < machine.total ? machine.constrained : Infinity
  return {
    maxHeapUsedBytes: overload.maxHeapUsedBytes ?? Math.floor(heapLimit * 0.9),
    maxRssBytes: overload.maxRssBytes ?? Math.floor(Math.min(heapLimit * 1.5, cgroup * 0.9))
  }
}

/** Builds the broker's Fastify app on a ready BrokerContext. Call `ready()` or `listen()` on it. */
export async function buildApp (broker: BrokerContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = broker
  // Shed requests are counted (hermod_requests_shed_total), never logged one by one: one summary line per 10 s.
  const summary = new ShedSummary(options.logger)
  const onShed = (reason: ShedReason): void => {
    broker.metrics.requestsShed.inc({ reason })
    // A connection over its own cap is that client's doing, not overload: the front keeps handing connections over.
    if (reason !== 'connection') broker.metrics.shedCount++
    summary.shed(reason)
  }
  // under-pressure's signals, read by the raw request gate once the plugin is registered (below).
  let pressure: PressureCheck = () => undefined
  // Timeouts, connection limits and the load-shedding gate are the server's (http-server.ts, R26, R29).
  const { factory, limiter } = brokerServerFactory(config.server, options.server?.https ?? undefined, {
    gauge: broker.inFlight,
    exempt: `${config.server.contextPath}/actuator/`,
    pressure: () => pressure(),
    onShed,
    onRefused: (scope) => { broker.metrics.connectionsRefused.inc({ scope }) },
    pauseMs: config.broker.overload.shedPauseMs,
    perConnection: config.broker.overload.maxInFlightPerConnection
  })
  broker.metrics.watchConnections(limiter)
  const app = Fastify({
    serverFactory: factory,
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    // One line per request, written by the onResponse hook below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // X-Request-Id, bounded (request-logger.ts).
    requestIdHeader: false,
    genReqId: requestId,
    bodyLimit: config.broker.commands.bodyLimit,
    trustProxy: config.broker.trustProxy,
    // Shutting down is answered by our own hook below, with our error body.
    return503OnClosing: false,
    // Ajv stops at the first problem: with allErrors, one body of 300,000 bad items made 300,000 errors.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    // What the router and Node's parser refuse gets our error body too, never the URL echoed back.
    frameworkErrors: sendFrameworkError,
    clientErrorHandler: handleClientError,
    // Closing ends idle kept-alive sockets at once (Fastify's default without a serverFactory).
    forceCloseConnections: 'idle'
  } as FastifyServerOptions) as unknown as FastifyInstance
  app.decorate('broker', broker)
  registerJsonBodyParser(app)
  registerErrorHandling(app)
  answerParserRefusals(app.server)
  app.addHook('onClose', (_app, done) => { summary.close(); done() })
  // While the process drains (SIGTERM), requests on kept-alive connections are refused cleanly:
  // another instance can take them, and Connection: close moves the client off this one (R27).
  app.addHook('onRequest', (_request, reply, done) => {
    if (!broker.draining) return done()
    void reply.code(503).header('retry-after', '1').header('connection', 'close')
      .send(errorBody(503, 'HERMOD_SHUTTING_DOWN', 'The broker is shutting down; try again (another instance)'))
  })
  // Fastify hands every request's child logger an options object, usually empty: then the child is
  // built lazily, on the first line the request logs (request-logger.ts). Same output.
  app.setChildLoggerFactory((logger, bindings, childOptions) =>
    Object.keys(childOptions).length === 0 && typeof (logger as Partial<Logger>).isLevelEnabled === 'function'
      ? new LazyRequestLogger(logger as unknown as Logger, bindings) as unknown as typeof logger
      : logger.child(bindings, childOptions))
  // Callback style and a level check: no promise, and no log object built when info is off.
  app.addHook('onResponse', (request, reply, done) => {
    if ((request.log as Partial<Logger>).isLevelEnabled?.('info') !== false) {
      request.log.info({ method: request.method, url: redactUrl(request.url), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed')
    }
    done()
  })
  for (const schema of sharedSchemas) app.addSchema(schema)
  registerMetrics(app, broker.metrics)
  const overload = config.broker.overload
  let readyAt = Infinity
  app.addHook('onReady', (done) => { readyAt = Date.now(); done() })
  await app.register(underPressure, {
    maxEventLoopDelay: overload.maxEventLoopDelayMs,
    ...memoryLimits(overload),
    sampleInterval: 200,
    // Shed load with our error body (R29); liveness opts out so an overloaded broker is not restarted.
    pressureHandler: (_request, reply, type) => {
      if (Date.now() - readyAt < overload.startGraceMs) return undefined
      onShed(type === 'heapUsedBytes' ? 'heap' : type === 'rssBytes' ? 'rss' : 'event-loop')
      void reply.code(503).header('retry-after', '1').type('application/json; charset=utf-8')
      // A non-null return is sent as the reply and ends the request (the plugin's types say void).
      return JSON.stringify(errorBody(503, 'HERMOD_OVERLOADED', 'The broker is overloaded; try again shortly')) as unknown as undefined
    }
  })
  // The raw gate sheds on the same signals before routing; this hook still answers readiness and health with 503.
  const limits = { ...memoryLimits(overload), maxEventLoopDelay: overload.maxEventLoopDelayMs }
  pressure = () => {
    if (Date.now() - readyAt < overload.startGraceMs) return undefined
    const now = app.memoryUsage()
    if (limits.maxEventLoopDelay > 0 && now.eventLoopDelay > limits.maxEventLoopDelay) return 'event-loop'
    if (limits.maxHeapUsedBytes > 0 && now.heapUsed > limits.maxHeapUsedBytes) return 'heap'
    if (limits.maxRssBytes > 0 && now.rssBytes > limits.maxRssBytes) return 'rss'
    return undefined
  }

  const contextPath = config.server.contextPath
  if (options.routes === 'operations') {
    await app.register(healthRoutes, { prefix: contextPath })
    return app
  }
  const prefix = `${contextPath}${config.uriBase}`
  await app.register(swagger, swaggerOptions(config))
  await app.register(swaggerUi, { routePrefix: `${contextPath}/swagger-ui` })
  app.get(`${contextPath}/v3/api-docs`, { schema: { hide: true } }, async () => app.swagger())

  await app.register(rateLimiting)
  await app.register(commandRoutes, { prefix })
  await app.register(deviceRoutes, { prefix })
  await app.register(utilRoutes, { prefix })
  await app.register(healthRoutes, { prefix: contextPath })
  await app.register(adminRoutes, { prefix: contextPath })
  if (broker.dev !== undefined) {
    await app.register(devRoutes, { prefix: `${contextPath}/dev`, dev: broker.dev })
    if (broker.dev.feed !== undefined) await app.register(consolePageRoutes, { prefix: `${contextPath}/console`, dev: broker.dev })
  }
  return app
}
