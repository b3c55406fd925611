// The broker's resolved configuration: what loadConfig() returns, frozen, in camelCase.
import type { AutoAnswerRule } from '../device/rules.js'

/** One server system allowed to post commands (an entry of `allowed-clients`). */
export interface ClientConfig {
  clientId: string
  /** The shared secret of the X-Api-Key. Never logged. */
  key: string
  /** Clients of one group share named boxes and see each other's commands. */
  group: string
  /** Base URL of the client's callback receiver; absent: no callbacks are sent. */
  callbackUrl?: string
  /** `user:password` for HTTP Basic on callbacks. Never logged, never queued. */
  callbackBasicAuth?: string
  /** `append` posts to `{callbackUrl}/callback/{type}`, `exact` to `callbackUrl` itself. */
  callbackMode: 'append' | 'exact'
  /** Standard Webhooks secret (`whsec_` + base64 of 24..64 bytes); absent: no signature header. */
  callbackSecret?: string
  /** Hermod 3.1.1+ content provider: `POST {contentProviderUrl}/getcontent` resolves `application/hermod+content-id` items. */
  contentProviderUrl?: string
  /** `user:password` for HTTP Basic on content provider requests. Never logged. */
  contentProviderBasicAuth?: string
}

/** How long the server waits for slow clients, ms (Node's http.Server and tls.Server options). */
export interface ServerTimeouts {
  /** Until the request headers are complete (Node `headersTimeout`); at most `request`. */
  headers: number
  /** Until the whole request, body included, is received (Node `requestTimeout`); not the response. */
  request: number
  /** A socket with no traffic either way is closed (Node `server.timeout`); a long poll extends it by its wait. */
  idle: number
  /** An idle kept-alive socket between requests (Node `keepAliveTimeout`). */
  keepAlive: number
  /** How often Node checks `headers` and `request` (Node `connectionsCheckingInterval`). */
  checkingInterval: number
  /** Until a TLS handshake completes (Node `handshakeTimeout`). */
  tlsHandshake: number
}

/** TLS of the listening server (Spring's `server.ssl.*`). */
export interface SslConfig {
  enabled: boolean
  /** PKCS#12 key store path (resolved to an absolute path). */
  keyStore?: string
  keyStorePassword?: string
  keyStoreType?: string
  /** PEM certificate chain path (Spring Boot's `server.ssl.certificate`). */
  certificate?: string
  /** PEM private key path (Spring Boot's `server.ssl.certificate-private-key`). */
  certificatePrivateKey?: string
  /** `none` | `want` | `need` (Spring's `server.ssl.client-auth`). */
  clientAuth: 'none' | 'want' | 'need'
  /** PEM bundle of CAs for client certificates (when clientAuth is not none). */
  trustCertificate?: string
}

export interface RedisConfig {
  url: string
  /** Key prefix; every key the broker writes starts with it. */
  prefix: string
  /** Extra ioredis options passed through unchanged (TLS, password, ...); in cluster and sentinel mode, those of every node. */
  options: Record<string, unknown>
  /**
   * Redis Cluster (`broker.redis.cluster.nodes` set): seed nodes, ioredis ClusterOptions, and the buckets groups
   * share a slot in with their index of work due (default 64; fixed for the life of the data).
   */
  cluster?: { nodes: RedisNodeAddress[], options: Record<string, unknown>, groupBuckets?: number }
  /** Sentinel (`broker.redis.sentinel.master` set): the master's name and the sentinels. */
  sentinel?: { master: string, nodes: RedisNodeAddress[], username?: string, password?: string, failoverDetector: boolean }
  /** Replicas every state change must reach before the broker answers (`WAIT`); 0 or unset: no WAIT. */
  waitReplicas?: number
  /** How long one WAIT may take, ms (default 500). */
  waitTimeoutMs?: number
  /** How often the store re-enters registered groups with work into the index of work due, ms (default 10 min; 0: at connect only). */
  reindexIntervalMs?: number
}

export interface RedisNodeAddress { host: string, port: number }

export interface CallbackConfig {
  /** One attempt's budget up to the target's status and headers, ms (the body is read separately, bounded). */
  timeoutMs: number
  /** Attempts in all (the first one included) before dead-lettering. */
  attempts: number
  backoffBaseMs: number
  backoffMaxMs: number
  /** Longest `Retry-After` honoured, ms. */
  retryAfterMaxMs: number
  /** Deliveries in flight at once, all clients together. */
  concurrency: number
  /** Deliveries in flight at once for one client, so a slow one cannot starve the others. */
  perClientConcurrency: number
  /** Extra CAs for HTTPS callback targets: PEM bundle or PKCS#12 (resolved path). */
  trustStore?: string
  trustStorePassword?: string
  /** Skip TLS verification of callback targets (explicit opt-in, logged at start). */
  insecureSkipVerify: boolean
  /** Dead letters kept; the oldest are dropped past it. */
  deadLetterMax: number
  /** BullMQ (Redis store): how long a worker's claim on a callback lasts without renewal (renewed at half), ms. */
  lockDurationMs: number
  /** BullMQ (Redis store): how often workers look for callbacks whose worker died (R19), ms. */
  stalledIntervalMs: number
  /** BullMQ (Redis store): callback queues, each with its hash tag `{cb:<i>}`; a client's callbacks all go to one. Absent: 1. */
  queueShards?: number
  /** Embedded queue: most callbacks held (waiting, delayed, in flight); past it a new one is dead-lettered. Absent: 20,000. */
  queueMaxEvents?: number
  /** Embedded queue: most bytes (estimated) of callbacks held, and separately of dead letters. Absent: 64 MiB. */
  queueMaxBytes?: number
}

export interface CommandLimits {
  /** Seconds, used when a command gives neither timeout nor lifespan. */
  defaultTimeout: number
  defaultLifespan: number
  maxTimeout: number
  maxLifespan: number
  /** Most entries of `commandHeader.to`. */
  maxDestinations: number
  /** Largest request body, bytes. */
  bodyLimit: number
}

export interface BrokerSettings {
  store: 'memory' | 'redis'
  redis: RedisConfig
  commands: CommandLimits
  /** How often each instance looks for commands past their timeout, ms. */
  sweepIntervalMs: number
  /**
   * Redis store: how long an IN_PROGRESS record outlives its lifespan, ms, so a late sweep still writes
   * its TIMEOUT (at least MIN_PURGE_GRACE_MS). Terminal records are kept for their lifespan only.
   */
  purgeGraceMs: number
  /** Longest long-poll wait a device may ask for, seconds. */
  maxLongPollSeconds: number
  callbacks: CallbackConfig
  /** Answer generateclient to any caller, not only loopback. */
  generateClientOpen: boolean
  /** Basic-auth credentials for the admin endpoints; absent: admin endpoints answer loopback callers only. */
  admin?: { username: string, password: string }
  /** Keep the callbacks the broker sends to itself (the dev sink at {context-path}/dev/callbacks). */
  devSink: boolean
  /** The dev surface under {context-path}/dev/ (src/dev/). */
  dev: DevSettings
  /** Requests to the clients' content providers. */
  contentProvider: { timeoutMs: number }
  /** Load shedding (@fastify/under-pressure): past any limit, requests get 503 HERMOD_OVERLOADED. 0 disables a limit. */
  overload: {
    maxEventLoopDelayMs: number
    /** Requests in flight at once (health, metrics and waiting long polls not counted); past it 503. */
    maxInFlight: number
    /** Requests of one connection in flight at once (pipelined); past it that connection's next gets 503 alone. 0: no cap. */
    maxInFlightPerConnection: number
    /** Past this queue time (the quickest request of the last 100 ms window), ms, only an eighth of maxInFlight is admitted. */
    maxQueueMs: number
    /** A socket whose request was shed is not read for this long, ms (its Retry-After, enforced); 0: off. */
    shedPauseMs: number
    /** Absent: 90 % of V8's heap limit (app.ts memoryLimits). */
    maxHeapUsedBytes?: number
    /** Absent: 1.5 times V8's heap limit, at most 90 % of a cgroup memory limit (app.ts memoryLimits). */
    maxRssBytes?: number
    /** No shedding for this long after the app is ready: start-up work (module loading, TLS) is not overload. */
    startGraceMs: number
  }
  /** Request budgets per window (@fastify/rate-limit): past one, `429 HERMOD_RATE_LIMITED` with Retry-After. */
  rateLimit: RateLimitSettings
  log: { level: string, pretty: 'auto' | boolean }
  /** Trust a proxy's X-Forwarded-* headers (Fastify's trustProxy: true/false, a hop count, or addresses/CIDRs). */
  trustProxy: boolean | number | string
  /** Where the broker keeps files across restarts (the generated self-signed certificate), absolute. */
  dataDir: string
}

/** `broker.rate-limit`: counted in Redis (shared by every instance) on the Redis store, in memory otherwise. */
export interface RateLimitSettings {
  /** Off by default (docs/configuration.md says why). */
  enabled: boolean
  /** The fixed window the budgets below are counted in, ms. */
  windowMs: number
  /** Requests per window of one server system on the command API, keyed by its client id. */
  perClientMax: number
  /** Requests per window to one box on the device API (a long poll counts once, however long it waits). */
  perBoxMax: number
  /** Requests per window from one remote address on the device API (IPv6: per /64). */
  perAddressMax: number
}

/** `broker.dev`: the dev API, the dev callback sink, the dev content provider. */
export interface DevSettings {
  /** Off by default: nothing under {context-path}/dev/ exists. */
  enabled: boolean
  /** Basic-auth credentials that open the dev surface beyond loopback callers. */
  credentials?: { username: string, password: string }
  /** Callback attempts the delivery log keeps (the oldest are dropped). */
  deliveryLogSize: number
  /** The developer console and its event feed (src/console/); on unless `false` (a load test turns it off). */
  console?: boolean
  /** `broker.dev.auto-answer`: the virtual device answers commands by rules. */
  autoAnswer: { enabled: boolean, profile: string, rules: AutoAnswerRule[] }
}

export interface BrokerConfig {
  server: {
    port: number
    /** Listen address; default `::` (all interfaces, IPv4 and IPv6). */
    address: string
    /** `server.servlet.context-path`, normalised: '' or '/x' without trailing slash. */
    contextPath: string
    ssl: SslConfig
    /** Bounds on slow clients (R26), ms; all applied when the server is constructed (server/http-server.ts). */
    timeouts: ServerTimeouts
    /** Open sockets allowed per instance and per remote address (0: no limit). */
    connections: { max: number, perAddress: number }
    /**
     * `hermod-broker start` only: a front process accepts the connections and hands them to the broker's process,
     * or answers them itself while the broker is overloaded (server/front/). Embedded brokers ignore it.
     */
    frontProcess: boolean
  }
  /** Hermod's `uri-base`, normalised like contextPath (default '/rest'). */
  uriBase: string
  /** The devices' base URL: `{publicUrl}/{bid}` is a box. No trailing slash. */
  publicUrl: string
  /** Reported as `fqdn` in accept responses. */
  fqdn: string
  allowedClients: ClientConfig[]
  broker: BrokerSettings
  /** Where the config came from (absolute path) or undefined for built-in defaults. */
  source?: string
}
