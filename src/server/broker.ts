// The composition root: store, callback queue, sweeper, relay and the HTTP app, started and stopped in order.
import type { FastifyInstance } from 'fastify'
import pino, { type Logger } from 'pino'
import { ClientRegistry } from '../auth/clients.js'
import { CallbackDeliverer } from '../callbacks/deliverer.js'
import { MemoryCallbackQueue, type AttemptReport, type MemoryCallbackQueueOptions } from '../callbacks/memory-queue.js'
import type { CallbackQueue } from '../callbacks/queue.js'
import { OutboxRelay } from '../callbacks/relay.js'
import type { BrokerConfig } from '../config/types.js'
import { BoxWaiters } from '../mailbox/box-waiters.js'
import { systemClock, type Clock } from '../mailbox/clock.js'
import { MemoryMailboxStore } from '../mailbox/memory-store.js'
import type { MailboxStore } from '../mailbox/store.js'
import type { CallbackEvent } from '../mailbox/types.js'
import { Sweeper } from '../mailbox/sweeper.js'
import { buildApp, type BuildAppOptions } from './app.js'
import { createDevServices, devClockFor } from '../dev/services.js'
import { createContentResolver } from '../content/resolver.js'
import type { BrokerContext } from './context.js'
import { createConsoleFeed } from '../console/feed-services.js'
import { observeStore } from '../console/observed-store.js'
import { InFlightGauge } from './load-shedding.js'
import { BrokerMetrics } from './metrics.js'
import { StartRefusedError } from './start-checks.js'

export interface BrokerOptions {
  clock?: Clock
  logger?: Logger
  /** PEM certificates callback targets may present besides the system CAs (the broker's own self-signed one). */
  extraCa?: string[]
  /** Server options for Fastify (https, timeouts) from start.ts. */
  server?: BuildAppOptions['server']
  /** Hooks on the in-process callback queue (tests, metrics). */
  queueHooks?: Pick<MemoryCallbackQueueOptions, 'onAttempt' | 'onSettled'>
  /**
   * `all` (default): the API and every loop; `api`: the API, no sweeper or delivery;
   * `worker`: sweeper, relay, delivery, and only health and metrics over HTTP.
   */
  role?: 'all' | 'api' | 'worker'
}

export interface Broker {
  app: FastifyInstance
  context: BrokerContext
  sweeper: Sweeper
  relay: OutboxRelay
  /** Starts the background loops (the HTTP app is the caller's to listen). */
  start (): void
  /** Stops in reverse order of start: loops, HTTP app, queue, store. */
  close (): Promise<void>
}

/** Builds a broker on `config`. Nothing listens and no loop runs until `start()` / `app.listen()`. */
export async function createBroker (config: BrokerConfig, options: BrokerOptions = {}): Promise<Broker> {
  const logger = options.logger
  const role = options.role ?? 'all'
  const clock = options.clock ?? devClockFor(config, role) ?? systemClock
  const clients = new ClientRegistry(config.allowedClients)
  // eslint-disable-next-line prefer-const -- assigned once below; the store's callback, made before it, reads it
  let metrics: BrokerMetrics | undefined
  const rawStore = await createStore(config, logger, (count) => metrics?.deadlinesWithoutRecord.inc(count))
  // With the dev surface and its console on, every instance (any role) tells the console feed what its store did.
  const feed = config.broker.dev.enabled && config.broker.dev.console !== false ? await createConsoleFeed(config, logger?.child({ component: 'console-feed' })) : undefined
  const store = feed === undefined ? rawStore : observeStore(rawStore, feed, clock)
  const dev = await createDevServices(config, role, store, clock, feed, logger)
  const deliverer = new CallbackDeliverer({
    clients,
    config: config.broker.callbacks,
    logger: (logger ?? pino({ level: 'silent' })).child({ component: 'callbacks' }),
    ...(options.extraCa === undefined ? {} : { extraCa: options.extraCa }),
    ...(dev === undefined ? {} : { observer: dev.recorder })
  })
  if (dev !== undefined) dev.deliverer = deliverer
  const hooks = options.queueHooks
  const queueOptions = {
    deliverer,
    config: config.broker.callbacks,
    ...(logger === undefined ? {} : { logger: logger.child({ component: 'callback-queue' }) }),
    onAttempt: (event: CallbackEvent, report: AttemptReport) => {
      metrics?.callbackAttempts.inc({ outcome: report.result.kind })
      hooks?.onAttempt?.(event, report)
      dev?.recorder.scheduled(event, report)
    },
    ...(hooks?.onSettled === undefined ? {} : { onSettled: hooks.onSettled })
  }
  // The embedded store's callbacks live in this process; the Redis store's in BullMQ, next to it.
  const queue: CallbackQueue = config.broker.store === 'redis'
    ? new (await import('../callbacks/bullmq-queue.js')).BullmqCallbackQueue({ ...queueOptions, redis: config.broker.redis, role })
    : new MemoryCallbackQueue(queueOptions)
  const waiters = new BoxWaiters(store)
  const inFlight = new InFlightGauge(config.broker.overload)
  metrics = new BrokerMetrics(queue, waiters, inFlight)
  const content = createContentResolver(config, clients, options.extraCa, logger?.child({ component: 'content-provider' }))
  const context: BrokerContext = {
    config, store, queue, clients, clock, waiters, content, metrics, inFlight, draining: false, ...(dev === undefined ? {} : { dev })
  }
  // A worker sweeps and delivers; its HTTP side is health and metrics only (for probes and Prometheus).
  const app = await buildApp(context, {
    ...(logger === undefined ? {} : { logger }),
    ...(options.server === undefined ? {} : { server: options.server }),
    routes: role === 'worker' ? 'operations' : 'all'
  })
  const sweeper = new Sweeper(store, clock, config.broker.sweepIntervalMs, logger?.child({ component: 'sweeper' }))
  const relay = new OutboxRelay(store, queue, 500, logger?.child({ component: 'relay' }), (events) => {
    for (const event of events) metrics?.finished.inc({ state: event.state })
  })

  return {
    app,
    context,
    sweeper,
    relay,
    start () {
      if (role !== 'api') {
        queue.start?.()
        sweeper.start()
      }
      // Every role relays its own outbox at once: an api-only instance is told of the events it
      // writes, a worker would only find them at its next poll (up to 500 ms later).
      relay.start()
    },
    async close () {
      context.draining = true
      waiters.close()
      await app.close()
      await sweeper.stop()
      await relay.stop()
      await relay.drain()
      await queue.close()
      await deliverer.close()
      await dev?.close()
      if (dev === undefined) await feed?.close()
      await content.close()
      await store.close()
    }
  }
}

async function createStore (
  config: BrokerConfig,
  logger: Logger | undefined,
  onDeadlinesWithoutRecord: (count: number) => void
): Promise<MailboxStore> {
  if (config.broker.store === 'memory') return new MemoryMailboxStore()
  // Loaded only when used, so the embedded default never touches ioredis.
  const { redisModeMismatch } = await import('../redis/mode-check.js')
  const mismatch = await redisModeMismatch(config.broker.redis)
  if (mismatch !== undefined) throw new StartRefusedError(mismatch)
  const { RedisMailboxStore } = await import('../mailbox/redis-store.js')
  const store = await RedisMailboxStore.connect({
    config: config.broker.redis,
    purgeGraceMs: config.broker.purgeGraceMs,
    onDeadlinesWithoutRecord,
    ...(logger === undefined ? {} : { logger })
  })
  const conflict = await store.layoutConflict()
  if (conflict !== undefined) {
    await store.close()
    throw new StartRefusedError(conflict)
  }
  return store
}
