// Prometheus metrics (prom-client): one registry per broker (served by health-routes.ts at {context-path}/actuator/prometheus).
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CallbackQueue } from '../callbacks/queue.js'
import type { BoxWaiters } from '../mailbox/box-waiters.js'

/** The broker's own metrics; label values are fixed sets (types, states, outcomes), never ids or secrets. */
export class BrokerMetrics {
  readonly registry = new Registry()
  readonly accepted = new Counter({ name: 'hermod_commands_accepted_total', help: 'Commands accepted, by type', labelNames: ['type'] as const, registers: [this.registry] })
  readonly finished = new Counter({ name: 'hermod_commands_finished_total', help: 'Commands that reached a terminal state, by state (counted when their callback event is queued)', labelNames: ['state'] as const, registers: [this.registry] })
  readonly deadlinesWithoutRecord = new Counter({ name: 'hermod_deadlines_without_record_total', help: 'Deadlines the sweeper found without their command record (unswept past lifespan + broker.purge-grace-ms): no TIMEOUT event was written', registers: [this.registry] })
  readonly callbackAttempts = new Counter({ name: 'hermod_callback_attempts_total', help: 'Callback delivery attempts, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] })
  readonly callbacksQueueFull = new Counter({ name: 'hermod_callbacks_queue_full_total', help: 'Callbacks dead-lettered without an attempt because the embedded callback queue was full (queue-max-events / queue-max-bytes)', registers: [this.registry] })
  readonly rateLimited = new Counter({ name: 'hermod_rate_limited_total', help: 'Requests refused with 429 HERMOD_RATE_LIMITED, by the budget they exceeded (client, box, address)', labelNames: ['limit'] as const, registers: [this.registry] })
  readonly rateLimitFailures = new Counter({ name: 'hermod_rate_limit_failures_total', help: 'Requests let through uncounted because the rate-limit counter failed (Redis down or slow)', registers: [this.registry] })
  readonly requestDuration = new Histogram({
    name: 'hermod_http_request_duration_seconds',
    help: 'HTTP request duration, by route and status class',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry]
  })

  readonly connectionsRefused = new Counter({
    name: 'hermod_connections_refused_total',
    help: 'Sockets refused over server.max-connections (scope instance) or server.max-connections-per-address (scope address)',
    labelNames: ['scope'] as const,
    registers: [this.registry]
  })

  private connections: { size: number } | undefined

  readonly requestsShed = new Counter({
    name: 'hermod_requests_shed_total',
    help: 'Requests answered 503 HERMOD_OVERLOADED, by signal: in-flight, queue-time, event-loop, heap, rss (broker.overload.*); connection: one connection past max-in-flight-per-connection; front: new connections the front process answered itself (server.front-process)',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  /** Requests this process shed so far (the same count as requestsShed without `front`, read synchronously). */
  shedCount = 0

  constructor (queue: CallbackQueue, waiters: BoxWaiters, inFlight?: { size: number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hermod_' })
    queue.onQueueFull?.((count) => { this.callbacksQueueFull.inc(count) })
    const registry = this.registry
    // eslint-disable-next-line no-new
    new Gauge({ name: 'hermod_long_polls_waiting', help: 'Device long polls waiting right now', registers: [registry], collect () { this.set(waiters.size) } })
    // eslint-disable-next-line no-new
    new Gauge({ name: 'hermod_long_poll_boxes_watched', help: 'Boxes with a long poll watching them right now', registers: [registry], collect () { this.set(waiters.boxes) } })
    const openConnections = (): number => this.connections?.size ?? 0
    // eslint-disable-next-line no-new
    new Gauge({ name: 'hermod_requests_in_flight', help: 'Requests in flight right now (health, metrics and waiting long polls not counted)', registers: [registry], collect () { this.set(inFlight?.size ?? 0) } })
    // eslint-disable-next-line no-new
    new Gauge({ name: 'hermod_connections_open', help: 'Sockets open right now (counted toward server.max-connections)', registers: [registry], collect () { this.set(openConnections()) } })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'hermod_callbacks',
      help: 'Callbacks in the queue, by state',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect () {
        const stats = await queue.stats().catch(() => undefined)
        if (stats === undefined) return
        for (const [state, value] of Object.entries(stats)) this.set({ state }, value)
      }
    })
  }

  /** The open-connections gauge reads `counter.size`. */
  watchConnections (counter: { size: number }): void {
    this.connections = counter
  }
}

/** Registers the per-request timing hook (the route, `{context-path}/actuator/prometheus`, is in health-routes.ts). */
export function registerMetrics (app: FastifyInstance, metrics: BrokerMetrics): void {
  // Labelled children are looked up once per route and status class (prom-client hashes the label
  // object on every observe otherwise); callback style, so no promise per request.
  const children = new Map<string, Array<Histogram.Internal<'route' | 'status'> | undefined>>()
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const statusClass = Math.min(9, Math.max(0, Math.floor(reply.statusCode / 100)))
    let byClass = children.get(route)
    if (byClass === undefined) children.set(route, byClass = [])
    const child = byClass[statusClass] ??= metrics.requestDuration.labels({ route, status: `${statusClass}xx` })
    child.observe(reply.elapsedTime / 1000)
    done()
  })
}
