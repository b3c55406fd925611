// What every route reads: the config, the store, the callback queue, the clients and the clock.
import type { ClientRegistry } from '../auth/clients.js'
import type { CallbackQueue } from '../callbacks/queue.js'
import type { BrokerConfig, ClientConfig } from '../config/types.js'
import type { BoxWaiters } from '../mailbox/box-waiters.js'
import type { Clock } from '../mailbox/clock.js'
import type { MailboxStore } from '../mailbox/store.js'
import type { DevServices } from '../dev/services.js'
import type { ContentResolver } from '../content/resolver.js'
import type { InFlightGauge } from './load-shedding.js'
import type { BrokerMetrics } from './metrics.js'

export interface BrokerContext {
  config: BrokerConfig
  store: MailboxStore
  queue: CallbackQueue
  clients: ClientRegistry
  clock: Clock
  waiters: BoxWaiters
  /** Resolves content-id items through the clients' content providers when a device reads a message. */
  content: ContentResolver
  metrics: BrokerMetrics
  /** Requests in flight and their queue time, for load shedding (load-shedding.ts). */
  inFlight: InFlightGauge
  /** The dev surface's state; present only with broker.dev.enabled (and not on `--role api`). */
  dev?: DevServices
  /** Set while the process shuts down: long polls answer at once, readiness says DOWN. */
  draining: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    broker: BrokerContext
  }
  interface FastifyRequest {
    /** The server system an X-Api-Key authenticated (command routes only). */
    client?: ClientConfig
  }
  interface FastifyContextConfig {
    /** The HERMOD_* code a schema validation failure on this route answers with. */
    validationCode?: 'HERMOD_INVALID_COMMAND' | 'HERMOD_INVALID_ANSWER' | 'HERMOD_INVALID_REQUEST'
    /** `false`: not counted in flight and never shed for it (health, metrics). */
    inFlight?: boolean
  }
}
