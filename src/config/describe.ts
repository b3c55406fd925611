// A redacted summary of the resolved config for the start-up log: no keys, passwords, secrets or URL credentials.
import type { BrokerConfig, RedisConfig, RedisNodeAddress } from './types.js'

/** The summary logged at start: what was configured and where from, with every secret left out or replaced by `set`. */
export function describeConfig (config: BrokerConfig): Record<string, unknown> {
  const { server, broker } = config
  const { keyStorePassword, ...ssl } = server.ssl
  const { trustStorePassword, ...callbacks } = broker.callbacks
  return {
    source: config.source ?? 'built-in defaults',
    server: { ...server, ssl: { ...ssl, ...(keyStorePassword === undefined ? {} : { keyStorePassword: 'set' }) } },
    uriBase: config.uriBase,
    publicUrl: withoutCredentials(config.publicUrl),
    fqdn: config.fqdn,
    allowedClients: config.allowedClients.map(client => ({
      clientId: client.clientId,
      group: client.group,
      callbackUrl: client.callbackUrl === undefined ? undefined : withoutCredentials(client.callbackUrl),
      callbackMode: client.callbackMode,
      callbackBasicAuth: client.callbackBasicAuth === undefined ? undefined : 'set',
      callbackSecret: client.callbackSecret === undefined ? undefined : 'set'
    })),
    broker: {
      ...broker,
      redis: describeRedis(broker.redis),
      callbacks: { ...callbacks, ...(trustStorePassword === undefined ? {} : { trustStorePassword: 'set' }) },
      admin: broker.admin === undefined ? undefined : { username: broker.admin.username, password: 'set' }
    }
  }
}

/** The Redis mode and where it points: nodes as host:port, option names only, the sentinels' password as `set`. */
function describeRedis (redis: RedisConfig): Record<string, unknown> {
  const nodes = (list: RedisNodeAddress[]): string[] => list.map((n) => `${n.host}:${n.port}`)
  const common = { prefix: redis.prefix, options: Object.keys(redis.options), waitReplicas: redis.waitReplicas ?? 0 }
  if (redis.cluster !== undefined) return { mode: 'cluster', nodes: nodes(redis.cluster.nodes), clusterOptions: Object.keys(redis.cluster.options), ...common }
  if (redis.sentinel !== undefined) {
    const s = redis.sentinel
    return { mode: 'sentinel', master: s.master, sentinels: nodes(s.nodes), ...(s.password === undefined ? {} : { sentinelPassword: 'set' }), ...common }
  }
  return { url: withoutCredentials(redis.url), ...common }
}

/** `https://user:pw@host/x` -> `https://host/x`; text that is not a URL is replaced rather than risked. */
function withoutCredentials (url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '')
  } catch {
    return '(not a URL)'
  }
}
