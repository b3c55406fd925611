// Builds the BrokerConfig (camelCase) from validated kebab-case settings: derived defaults, normalised prefixes, absolute paths.
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { parseAutoAnswerRules } from '../device/rules.js'
import { ConfigError } from './errors.js'
import { resolveConfiguredPath } from './paths.js'
import type { BrokerConfig, BrokerSettings, ClientConfig, RedisConfig, RedisNodeAddress, SslConfig } from './types.js'

/** Validated settings as the schema names them (defaults filled in). */
type Settings = Record<string, any>

/** Where relative paths are resolved from. */
export interface BuildContext {
  cwd: string
  /** Absolute path of the config file, if one was read. */
  configFile?: string
}

/** `server.servlet.context-path` and `uri-base` normalised: '' or `/x` without a trailing slash; '/' means ''. */
export function normalizePrefix (prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '')
  if (trimmed === '') return ''
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

/** Builds the config; `notices` name configured files that exist nowhere (with the places tried). */
export function buildBrokerConfig (settings: Settings, context: BuildContext): { config: BrokerConfig, notices: string[] } {
  const notices: string[] = []
  const filePath = (value: unknown, name: string): string | undefined => {
    const configured = optionalText(value)
    if (configured === undefined) return undefined
    const resolved = resolveConfiguredPath(configured, context.cwd, context.configFile)
    if (resolved.tried !== undefined) notices.push(`${name}: ${configured} not found (tried ${resolved.tried.join(', ')})`)
    return resolved.path
  }
  const server: Settings = settings.server
  const sslSettings: Settings = server.ssl
  const ssl: SslConfig = {
    enabled: sslSettings.enabled,
    keyStore: filePath(sslSettings['key-store'], 'server.ssl.key-store'),
    keyStorePassword: sslSettings['key-store-password'],
    keyStoreType: optionalText(sslSettings['key-store-type']),
    certificate: filePath(sslSettings.certificate, 'server.ssl.certificate'),
    certificatePrivateKey: filePath(sslSettings['certificate-private-key'], 'server.ssl.certificate-private-key'),
    clientAuth: sslSettings['client-auth'],
    trustCertificate: filePath(sslSettings['trust-certificate'], 'server.ssl.trust-certificate')
  }
  const port: number = server.port
  const contextPath = normalizePrefix(server.servlet['context-path'] ?? server['context-path'] ?? '/hermod')
  const uriBase = normalizePrefix(settings['uri-base'])
  const fqdn = optionalText(settings.fqdn) ?? hostname()
  const host = fqdn.includes(':') ? `[${fqdn}]` : fqdn
  const publicUrl = (optionalText(settings['public-url']) ?? `${ssl.enabled ? 'https' : 'http'}://${host}:${port}${contextPath}${uriBase}/ms`)
    .replace(/\/+$/, '')
  const config: BrokerConfig = {
    server: {
      port,
      address: optionalText(server.address) ?? '::',
      contextPath,
      ssl: withoutUndefined(ssl),
      timeouts: {
        headers: server['headers-timeout-ms'],
        request: server['request-timeout-ms'],
        idle: server['idle-timeout-ms'],
        keepAlive: server['keep-alive-timeout-ms'],
        checkingInterval: server['connections-checking-interval-ms'],
        tlsHandshake: server['tls-handshake-timeout-ms']
      },
      connections: { max: server['max-connections'], perAddress: server['max-connections-per-address'] },
      frontProcess: server['front-process'] as boolean
    },
    uriBase,
    publicUrl,
    fqdn,
    allowedClients: (settings['allowed-clients'] as Settings[]).map(buildClient),
    broker: buildBrokerSettings(settings.broker, filePath, context.cwd),
    ...(context.configFile === undefined ? {} : { source: context.configFile })
  }
  return { config, notices }
}

function buildClient (client: Settings): ClientConfig {
  return withoutUndefined({
    clientId: client['client-id'],
    key: client.key,
    group: client.group,
    callbackUrl: optionalText(client['callback-url']),
    callbackBasicAuth: optionalText(client['callback-basic-auth']),
    callbackMode: client['callback-mode'],
    callbackSecret: optionalText(client['callback-secret']),
    contentProviderUrl: optionalText(client['content-provider-url']),
    contentProviderBasicAuth: optionalText(client['content-provider-basic-auth'])
  })
}

function buildBrokerSettings (
  broker: Settings,
  filePath: (value: unknown, name: string) => string | undefined,
  cwd: string
): BrokerSettings {
  const { redis, commands, callbacks, admin, log } = broker
  return withoutUndefined({
    store: broker.store,
    redis: buildRedisSettings(redis),
    commands: {
      defaultTimeout: commands['default-timeout'],
      defaultLifespan: commands['default-lifespan'],
      maxTimeout: commands['max-timeout'],
      maxLifespan: commands['max-lifespan'],
      maxDestinations: commands['max-destinations'],
      bodyLimit: commands['body-limit']
    },
    sweepIntervalMs: broker['sweep-interval-ms'],
    purgeGraceMs: broker['purge-grace-ms'],
    maxLongPollSeconds: broker['max-long-poll-seconds'],
    callbacks: withoutUndefined({
      timeoutMs: callbacks['timeout-ms'],
      attempts: callbacks.attempts,
      backoffBaseMs: callbacks['backoff-base-ms'],
      backoffMaxMs: callbacks['backoff-max-ms'],
      retryAfterMaxMs: callbacks['retry-after-max-ms'],
      concurrency: callbacks.concurrency,
      perClientConcurrency: callbacks['per-client-concurrency'],
      trustStore: filePath(callbacks['trust-store'], 'broker.callbacks.trust-store'),
      trustStorePassword: callbacks['trust-store-password'],
      insecureSkipVerify: callbacks['insecure-skip-verify'],
      deadLetterMax: callbacks['dead-letter-max'],
      lockDurationMs: callbacks['lock-duration-ms'],
      stalledIntervalMs: callbacks['stalled-interval-ms'],
      queueShards: callbacks['queue-shards'],
      queueMaxEvents: callbacks['queue-max-events'],
      queueMaxBytes: callbacks['queue-max-bytes']
    }),
    generateClientOpen: broker['generate-client-open'],
    admin: admin?.username === undefined ? undefined : { username: admin.username, password: admin.password },
    devSink: broker['dev-sink'],
    dev: withoutUndefined({
      enabled: broker.dev.enabled,
      credentials: broker.dev.username === undefined ? undefined : { username: broker.dev.username, password: broker.dev.password },
      deliveryLogSize: broker.dev['delivery-log-size'],
      console: broker.dev.console,
      autoAnswer: buildAutoAnswer(broker.dev['auto-answer'])
    }),
    contentProvider: { timeoutMs: broker['content-provider']['timeout-ms'] },
    overload: {
      maxEventLoopDelayMs: broker.overload['max-event-loop-delay-ms'],
      maxInFlight: broker.overload['max-in-flight'],
      maxInFlightPerConnection: broker.overload['max-in-flight-per-connection'],
      maxQueueMs: broker.overload['max-queue-ms'],
      shedPauseMs: broker.overload['shed-pause-ms'],
      maxHeapUsedBytes: broker.overload['max-heap-used-bytes'],
      maxRssBytes: broker.overload['max-rss-bytes'],
      startGraceMs: broker.overload['start-grace-ms']
    },
    rateLimit: {
      enabled: broker['rate-limit'].enabled,
      windowMs: broker['rate-limit']['window-ms'],
      perClientMax: broker['rate-limit']['per-client-max'],
      perBoxMax: broker['rate-limit']['per-box-max'],
      perAddressMax: broker['rate-limit']['per-address-max']
    },
    log: { level: log.level, pretty: log.pretty },
    trustProxy: broker['trust-proxy'],
    dataDir: resolve(cwd, broker['data-dir'])
  })
}

function optionalText (value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

/** Drops keys whose value is undefined, so the frozen config has no `key: undefined` entries. */
function withoutUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** `broker.dev.auto-answer` in its canonical form; a rule the schema lets through but the rules parser refuses stops start-up. */
function buildAutoAnswer (settings: Settings): BrokerSettings['dev']['autoAnswer'] {
  const { rules, problems } = parseAutoAnswerRules(settings.rules)
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `broker.dev.auto-answer.${problem}`))
  return { enabled: settings.enabled, profile: settings.profile, rules }
}

/** `host:port,host:port` -> addresses (validate.ts checked the form). */
export function parseRedisNodes (text: string): RedisNodeAddress[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    const colon = item.lastIndexOf(':')
    return { host: item.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(item.slice(colon + 1)) }
  })
}

function buildRedisSettings (redis: Settings): RedisConfig {
  const cluster = redis.cluster as Settings
  const sentinel = redis.sentinel as Settings
  return withoutUndefined({
    url: redis.url,
    prefix: redis.prefix,
    options: redis.options,
    cluster: cluster.nodes === '' ? undefined : { nodes: parseRedisNodes(cluster.nodes), options: cluster.options, groupBuckets: cluster['group-buckets'] },
    sentinel: sentinel.master === ''
      ? undefined
      : withoutUndefined({
        master: sentinel.master,
        nodes: parseRedisNodes(sentinel.nodes),
        username: optionalText(sentinel.username),
        password: optionalText(sentinel.password),
        failoverDetector: sentinel['failover-detector']
      }),
    waitReplicas: redis['wait-replicas'],
    waitTimeoutMs: redis['wait-timeout-ms'],
    reindexIntervalMs: redis['reindex-interval-ms']
  }) as RedisConfig
}
