// The JSON schema of application.yml in canonical (kebab-case) names: every key the broker reads, its type, range and default.

/** The subset of JSON schema this project writes; enough for binding, coercion and ajv. */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | Array<'string' | 'integer' | 'boolean'>
  properties?: Record<string, SchemaNode>
  items?: SchemaNode
  /** `false` makes a section strict: unknown keys are problems, not ignored. */
  additionalProperties?: boolean
  required?: string[]
  dependencies?: Record<string, string[]>
  enum?: Array<string | boolean>
  default?: unknown
  minimum?: number
  maximum?: number
  minLength?: number
  pattern?: string
  description?: string
}

/**
 * The least `broker.purge-grace-ms`: how long an IN_PROGRESS record outlives its lifespan in Redis, so a
 * sweep that comes late still finds it and writes its TIMEOUT. Five minutes: five times the longest
 * sweep interval (60 s), and room for a rolling restart or a Redis failover without any sweeper. (The
 * relay's lag does not count: outbox events have no TTL.)
 */
export const MIN_PURGE_GRACE_MS = 300_000

const integer = (defaultValue: number, minimum: number, maximum?: number): SchemaNode =>
  maximum === undefined
    ? { type: 'integer', minimum, default: defaultValue }
    : { type: 'integer', minimum, maximum, default: defaultValue }
const flag = (defaultValue: boolean): SchemaNode => ({ type: 'boolean', default: defaultValue })
const text: SchemaNode = { type: 'string' }
const nonEmptyText: SchemaNode = { type: 'string', minLength: 1 }

/** One entry of `allowed-clients` (Hermod's keys plus our `callback-mode` and `callback-secret`). */
const clientSchema: SchemaNode = {
  type: 'object',
  required: ['client-id', 'key', 'group'],
  properties: {
    'client-id': nonEmptyText,
    key: nonEmptyText,
    group: nonEmptyText,
    'callback-url': text,
    'callback-basic-auth': text,
    'callback-mode': { type: 'string', enum: ['append', 'exact'], default: 'append' },
    'callback-secret': text,
    'content-provider-url': text,
    'content-provider-basic-auth': text
  }
}

// --- broker.dev.auto-answer (issue 9, the virtual device) -------------------------------------------
// Nested by the `broker.dev` block as its 'auto-answer' property. The rules are checked again (and turned into
// AutoAnswerRule[]) by parseAutoAnswerRules in src/device/rules.ts; lists are comma-separated text.

/** One auto-answer rule: what it matches (it must name its clients: no catch-all) and what the device does. */
const autoAnswerRuleSchema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  required: ['client'],
  properties: {
    name: text,
    client: { type: 'string', minLength: 1, pattern: '^[^*]+$', description: 'client ids, comma-separated; "*" is refused' },
    type: { type: 'string', description: 'command types, comma-separated; default any' },
    group: { type: 'string', description: 'groups, comma-separated; default any' },
    to: { type: 'string', description: 'destination names (@tmp or a box name), comma-separated; default any' },
    'external-id': { type: 'string', description: 'a glob (* and ?) on the externalId' },
    action: { type: 'string', enum: ['approve', 'reject', 'ignore', 'malformed'], default: 'approve' },
    answer: { type: 'string', enum: ['realistic', 'canned', 'given'], description: 'default realistic (given when response is set)' },
    response: { type: 'object', description: 'the JSON to answer with (answer: given)' },
    'delay-ms': integer(0, 0, 3600000),
    probability: { type: 'number', minimum: 0, maximum: 1, default: 1 }
  }
}

/** `broker.dev.auto-answer`: off by default; realistic answers come from the device profile `profile`. */
export const autoAnswerSchema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: flag(false),
    profile: { type: 'string', pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$', default: 'default' },
    rules: { type: 'array', default: [], items: autoAnswerRuleSchema }
  }
}
// --- end of broker.dev.auto-answer -------------------------------------------------------------------

/** Our own section: strict at every level except the free-form `redis.options`. */
const brokerSchema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    store: { type: 'string', enum: ['memory', 'redis'], default: 'memory' },
    redis: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: 'string', default: 'redis://127.0.0.1:6379' },
        // Braces would break the per-group Redis Cluster hash tags the keys are built with.
        prefix: { type: 'string', minLength: 1, pattern: '^[^{}]+$', default: 'hermod' },
        options: { type: 'object', default: {}, description: 'passed to ioredis unchanged (of every node in cluster and sentinel mode)' },
        // Spring's spring.data.redis.cluster.* shape: set nodes and the broker connects to a Redis Cluster.
        cluster: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            nodes: { type: 'string', default: '', description: 'seed nodes, host:port separated by commas' },
            options: { type: 'object', default: {}, description: 'ioredis ClusterOptions (natMap, ...) passed through' },
            // Buckets of groups sharing a slot with their index of work due (mailbox/keys.ts); fixed once data exists.
            'group-buckets': integer(64, 1, 1024)
          }
        },
        // Spring's spring.data.redis.sentinel.* shape: set master and nodes and the broker asks the sentinels.
        sentinel: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            master: { type: 'string', default: '' },
            nodes: { type: 'string', default: '', description: 'sentinels, host:port separated by commas' },
            username: text,
            password: text,
            'failover-detector': flag(false)
          }
        },
        'wait-replicas': integer(0, 0, 16),
        'wait-timeout-ms': integer(500, 1, 60000),
        'reindex-interval-ms': integer(600000, 0, 86400000)
      }
    },
    commands: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        'default-timeout': integer(300, 1),
        'default-lifespan': integer(300, 1),
        'max-timeout': integer(86400, 1),
        'max-lifespan': integer(86400, 1),
        'max-destinations': integer(16, 1, 1000),
        'body-limit': integer(1048576, 1024, 268435456)
      }
    },
    'sweep-interval-ms': integer(200, 10, 60000),
    'purge-grace-ms': integer(3600000, MIN_PURGE_GRACE_MS),
    'max-long-poll-seconds': integer(60, 0, 3600),
    callbacks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        'timeout-ms': integer(15000, 100, 3600000),
        attempts: integer(12, 1, 1000),
        'backoff-base-ms': integer(1000, 0),
        'backoff-max-ms': integer(300000, 0),
        'retry-after-max-ms': integer(600000, 0),
        concurrency: integer(64, 1, 100000),
        'per-client-concurrency': integer(8, 1, 100000),
        'trust-store': text,
        'trust-store-password': text,
        'insecure-skip-verify': flag(false),
        'dead-letter-max': integer(10000, 0),
        'lock-duration-ms': integer(10000, 1000, 600000),
        'stalled-interval-ms': integer(5000, 500, 600000),
        'queue-shards': integer(1, 1, 1024),
        // No schema default: absent means the embedded queue's defaults (memory-queue-bounds.ts).
        'queue-max-events': { type: 'integer', minimum: 1, maximum: 10000000 },
        'queue-max-bytes': { type: 'integer', minimum: 1048576 }
      }
    },
    'generate-client-open': flag(false),
    admin: {
      type: 'object',
      additionalProperties: false,
      dependencies: { username: ['password'], password: ['username'] },
      properties: { username: nonEmptyText, password: nonEmptyText }
    },
    'dev-sink': flag(false),
    // The dev surface under {context-path}/dev/ (src/dev/): off unless enabled; loopback-only unless credentials open it.
    dev: {
      type: 'object',
      additionalProperties: false,
      default: {},
      dependencies: { username: ['password'], password: ['username'] },
      properties: {
        enabled: flag(false),
        username: nonEmptyText,
        password: nonEmptyText,
        'delivery-log-size': integer(1000, 1, 100000),
        // The developer console at {context-path}/console/ and its event feed (src/console/).
        console: flag(true),
        'auto-answer': autoAnswerSchema
      }
    },
    'content-provider': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { 'timeout-ms': integer(5000, 100, 600000) }
    },
    overload: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        'max-event-loop-delay-ms': integer(1000, 0),
        'max-in-flight': integer(512, 0),
        'max-in-flight-per-connection': integer(32, 0, 100000),
        'max-queue-ms': integer(1000, 0, 600_000),
        'shed-pause-ms': integer(1000, 0, 60_000),
        // No schema default: absent means derived from the heap limit (server/app.ts memoryLimits).
        'max-heap-used-bytes': { type: 'integer', minimum: 0 },
        'max-rss-bytes': { type: 'integer', minimum: 0 },
        'start-grace-ms': integer(5000, 0, 600000)
      }
    },
    // Per-client and per-device request budgets (src/server/rate-limit/): off unless enabled, see docs/configuration.md.
    'rate-limit': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: flag(false),
        'window-ms': integer(60000, 1000, 3600000),
        'per-client-max': integer(6000, 1),
        'per-box-max': integer(600, 1),
        'per-address-max': integer(6000, 1)
      }
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        pretty: { type: ['string', 'boolean'], enum: ['auto', true, false], default: 'auto' }
      }
    },
    'trust-proxy': { type: ['boolean', 'integer', 'string'], default: false },
    'data-dir': { type: 'string', minLength: 1, default: '.hermod' }
  }
}

/**
 * The whole file. Hermod's sections are lenient (unknown keys are ignored with a notice, as Spring does);
 * `broker` is strict. Defaults that depend on other values (context-path, fqdn, public-url) are applied later.
 */
export const configSchema: SchemaNode = {
  type: 'object',
  properties: {
    server: {
      type: 'object',
      default: {},
      properties: {
        port: integer(20400, 0, 65535),
        address: { type: 'string', default: '::' },
        servlet: { type: 'object', default: {}, properties: { 'context-path': text } },
        /** Spring Boot 1.x spelling, still found in older Hermod configs. */
        'context-path': text,
        // Slow and greedy clients (R26): applied when the server is constructed (server/http-server.ts).
        'headers-timeout-ms': integer(10_000, 100, 600_000),
        'request-timeout-ms': integer(30_000, 100, 3_600_000),
        'idle-timeout-ms': integer(30_000, 100, 3_600_000),
        'keep-alive-timeout-ms': integer(72_000, 100, 3_600_000),
        'connections-checking-interval-ms': integer(1000, 100, 60_000),
        'tls-handshake-timeout-ms': integer(10_000, 100, 600_000),
        'max-connections': integer(10_000, 0),
        'max-connections-per-address': integer(1000, 0),
        // R29: `hermod-broker start` accepts connections in a front process and hands them to the broker (server/front/).
        'front-process': flag(true),
        ssl: {
          type: 'object',
          default: {},
          properties: {
            enabled: flag(true),
            'key-store': text,
            'key-store-password': text,
            'key-store-type': text,
            certificate: text,
            'certificate-private-key': text,
            'client-auth': { type: 'string', enum: ['none', 'want', 'need'], default: 'none' },
            'trust-certificate': text
          }
        }
      }
    },
    'uri-base': { type: 'string', default: '/rest' },
    'public-url': text,
    fqdn: text,
    'allowed-clients': { type: 'array', default: [], items: clientSchema },
    broker: brokerSchema
  }
}

/** Hermod also reads these keys from a `hermod:` section; we bind them to the top level. */
export const hermodSectionName = 'hermod'
export const hermodSectionSchema: SchemaNode = {
  type: 'object',
  properties: Object.fromEntries(
    ['allowed-clients', 'public-url', 'uri-base', 'fqdn'].map(key => [key, configSchema.properties?.[key] ?? text])
  )
}
