// Validates the coerced settings: the JSON schema (types, ranges, unknown `broker` keys) and the rules a schema cannot say.
import { Ajv, type ErrorObject } from 'ajv'
import { closestKey, displayPath, schemaAt, type SettingPath } from './relaxed-names.js'
import { configSchema, type SchemaNode } from './schema.js'

const ajv = new Ajv({ allErrors: true, useDefaults: true, allowUnionTypes: true, strict: true, verbose: true })
const validateSchema = ajv.compile(configSchema)

type Settings = Record<string, any>

/**
 * Checks `values` in place and fills in the schema defaults. Returns every problem as `path: reason (origin)`;
 * paths listed in `skip` (failed placeholders, already reported) get no second complaint.
 */
export function validateSettings (values: Settings, origins: Map<string, string>, skip: Set<string>): string[] {
  const problems: string[] = []
  const report = (path: SettingPath, reason: string): void => {
    const where = displayPath(path)
    if (skip.has(where)) return
    const origin = origins.get(where)
    problems.push(`${where}: ${reason}${origin === undefined ? '' : ` (${origin})`}`)
  }
  if (!validateSchema(values)) {
    for (const error of validateSchema.errors ?? []) {
      const { path, reason } = describeSchemaError(error)
      report(path, reason)
    }
  }
  checkClients(values['allowed-clients'], report)
  checkServer(values.server, report)
  checkUrl(values['public-url'], ['public-url'], report)
  checkBroker(values.broker, report)
  return problems
}

type Report = (path: SettingPath, reason: string) => void

function describeSchemaError (error: ErrorObject): { path: SettingPath, reason: string } {
  const path: SettingPath = error.instancePath.split('/').slice(1)
    .map(element => element.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(element => /^\d+$/.test(element) ? Number(element) : element)
  const params = error.params as Record<string, any>
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const section = schemaAt(configSchema, path) as SchemaNode
      const suggestion = closestKey(section, key)
      const known = Object.keys(section.properties ?? {}).join(', ')
      return { path: [...path, key], reason: `unknown key${suggestion === undefined ? ` (known keys: ${known})` : ` (did you mean ${suggestion}?)`}` }
    }
    case 'required':
      return { path: [...path, String(params.missingProperty)], reason: 'is required' }
    case 'dependencies':
      return { path: [...path, String(params.missingProperty)], reason: `is required when ${displayPath([...path, String(params.property)])} is set` }
    case 'type':
      return { path, reason: `must be ${withArticle(String(params.type).replace(',', ' or '))}${shown(error.data)}` }
    case 'enum':
      return { path, reason: `must be one of ${(params.allowedValues as unknown[]).join(', ')}${shown(error.data)}` }
    case 'minimum':
    case 'maximum':
      return { path, reason: `must be ${params.comparison} ${params.limit}${shown(error.data)}` }
    case 'minLength':
      return { path, reason: 'must not be empty' }
    default:
      return { path, reason: error.message ?? error.keyword }
  }
}

/** Shows a short offending value; settings that hold secrets are strings, which never fail these checks. */
function shown (data: unknown): string {
  if (typeof data === 'number' || typeof data === 'boolean') return ` (got ${data})`
  if (typeof data === 'string' && data.length <= 40) return ` (got '${data}')`
  return ''
}

function withArticle (type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function checkClients (clients: unknown, report: Report): void {
  if (!Array.isArray(clients)) return
  const firstIndex = new Map<string, number>()
  clients.forEach((client: Settings, index) => {
    if (typeof client !== 'object' || client === null) return
    const path = (key: string): SettingPath => ['allowed-clients', index, key]
    const id = client['client-id']
    if (typeof id === 'string' && id !== '') {
      const earlier = firstIndex.get(id)
      if (earlier !== undefined) report(path('client-id'), `duplicate client-id '${id}' (also allowed-clients[${earlier}])`)
      else firstIndex.set(id, index)
    }
    checkUrl(client['callback-url'], path('callback-url'), report, client['callback-mode'] !== 'exact')
    const secret = client['callback-secret']
    if (typeof secret === 'string' && secret !== '' && !isWebhookSecret(secret)) {
      report(path('callback-secret'), 'must be whsec_ followed by the base64 of 24 to 64 random bytes')
    }
    const basic = client['callback-basic-auth']
    if (typeof basic === 'string' && basic !== '' && !basic.includes(':')) {
      report(path('callback-basic-auth'), 'must be user:password')
    }
    if (typeof id === 'string' && id.includes(':')) report(path('client-id'), "must not contain ':' (the X-Api-Key splits at the first ':')")
  })
}

/** Standard Webhooks: `whsec_` + standard base64 of 24..64 bytes. */
function isWebhookSecret (secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)
  if (match === null || (match[1] as string).length % 4 !== 0) return false
  const bytes = Buffer.from(match[1] as string, 'base64').length
  return bytes >= 24 && bytes <= 64
}

function checkUrl (value: unknown, path: SettingPath, report: Report, usedAsBase = false): void {
  if (typeof value !== 'string' || value === '') return
  let url: URL
  try {
    url = new URL(value)
  } catch {
    report(path, 'must be an absolute http:// or https:// URL')
    return
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') report(path, 'must be an http:// or https:// URL')
  else if (usedAsBase && (url.search !== '' || url.hash !== '')) report(path, 'must not have a query or fragment (paths are appended to it)')
}

function checkServer (server: Settings | undefined, report: Report): void {
  const ssl: Settings | undefined = server?.ssl
  if (server?.['context-path'] !== undefined && server.servlet?.['context-path'] !== undefined) {
    report(['server', 'context-path'], 'set together with server.servlet.context-path; keep one')
  }
  if (typeof server?.['headers-timeout-ms'] === 'number' && typeof server['request-timeout-ms'] === 'number' &&
    server['headers-timeout-ms'] > server['request-timeout-ms']) {
    report(['server', 'headers-timeout-ms'], `must not exceed server.request-timeout-ms (${server['request-timeout-ms']})`)
  }
  if (ssl === undefined || ssl.enabled !== true) return
  const has = (key: string): boolean => typeof ssl[key] === 'string' && ssl[key] !== ''
  if (has('key-store') && (has('certificate') || has('certificate-private-key'))) {
    report(['server', 'ssl', 'key-store'], 'set together with server.ssl.certificate; configure a key store or PEM files, not both')
  }
  if (has('certificate') !== has('certificate-private-key')) {
    report(['server', 'ssl', has('certificate') ? 'certificate-private-key' : 'certificate'], 'is required when the other PEM file is set')
  }
  if (ssl['client-auth'] !== 'none' && typeof ssl['client-auth'] === 'string' && !has('trust-certificate')) {
    report(['server', 'ssl', 'trust-certificate'], `is required when server.ssl.client-auth is ${ssl['client-auth']} (PEM bundle of the accepted client CAs)`)
  }
}

function checkBroker (broker: Settings | undefined, report: Report): void {
  const url = broker?.redis?.url
  if (typeof url === 'string' && !/^rediss?:\/\/./.test(url)) report(['broker', 'redis', 'url'], 'must be a redis:// or rediss:// URL')
  checkRedisTopology(broker?.redis, report)
  const atMost = (section: string, lower: string, upper: string): void => {
    const values = broker?.[section]
    if (typeof values?.[lower] === 'number' && typeof values?.[upper] === 'number' && values[lower] > values[upper]) {
      report(['broker', section, lower], `must not exceed broker.${section}.${upper} (${values[upper]})`)
    }
  }
  atMost('commands', 'default-timeout', 'max-timeout')
  atMost('commands', 'default-lifespan', 'max-lifespan')
  atMost('commands', 'default-timeout', 'default-lifespan')
  atMost('callbacks', 'backoff-base-ms', 'backoff-max-ms')
}

const NODE_LIST = /^\s*(?:\[[0-9a-fA-F:.]+\]|[^\s,:[\]]+):\d{1,5}\s*(?:,\s*(?:\[[0-9a-fA-F:.]+\]|[^\s,:[\]]+):\d{1,5}\s*)*$/

/** Cluster and Sentinel settings: node lists as host:port,..., not both modes at once, no replica reads for the store. */
function checkRedisTopology (redis: Settings | undefined, report: Report): void {
  const nodes = (section: 'cluster' | 'sentinel'): unknown => redis?.[section]?.nodes
  const clusterNodes = nodes('cluster')
  const sentinelNodes = nodes('sentinel')
  const master = redis?.sentinel?.master
  for (const [section, value] of [['cluster', clusterNodes], ['sentinel', sentinelNodes]] as const) {
    if (typeof value === 'string' && value !== '' && !NODE_LIST.test(value)) {
      report(['broker', 'redis', section, 'nodes'], 'must be host:port entries separated by commas (e.g. redis-1:6379,redis-2:6379)')
    }
  }
  const inCluster = typeof clusterNodes === 'string' && clusterNodes !== ''
  const inSentinel = typeof master === 'string' && master !== ''
  if (inCluster && inSentinel) {
    report(['broker', 'redis', 'sentinel', 'master'], 'must not be set together with broker.redis.cluster.nodes: choose Redis Cluster or Sentinel')
  }
  if (inSentinel && (typeof sentinelNodes !== 'string' || sentinelNodes === '')) {
    report(['broker', 'redis', 'sentinel', 'nodes'], 'is required with broker.redis.sentinel.master (the sentinels, host:port separated by commas)')
  }
  if (!inSentinel && typeof sentinelNodes === 'string' && sentinelNodes !== '') {
    report(['broker', 'redis', 'sentinel', 'master'], 'is required with broker.redis.sentinel.nodes (the name the sentinels monitor)')
  }
  const scaleReads = redis?.cluster?.options?.scaleReads
  if (scaleReads !== undefined && scaleReads !== 'master') {
    report(['broker', 'redis', 'cluster', 'options', 'scaleReads'], 'must be master (or unset): the store reads its own writes, a replica may not have them yet')
  }
}
