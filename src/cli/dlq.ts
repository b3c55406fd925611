// `hermod-broker dlq list|replay`: dead-lettered callbacks, through a running broker's admin API.
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { loadConfig } from '../config/load.js'

/** Lists or replays dead letters; exit code 0 on success, 1 when the broker refuses. */
export async function runDlq (args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string' },
      insecure: { type: 'boolean' },
      config: { type: 'string', short: 'c' }
    }
  })
  const [action, id] = positionals
  if (action !== 'list' && action !== 'replay') throw new Error('dlq takes "list" or "replay <event-id>"')
  if (action === 'replay' && id === undefined) throw new Error('dlq replay needs an event id (see dlq list)')
  let base = values.url
  let selfSigned = false
  let user = values.user
  if (base === undefined || user === undefined) {
    const { config } = await loadConfig(values.config === undefined ? {} : { file: values.config })
    const tls = config.server.ssl
    selfSigned = tls.enabled && tls.keyStore === undefined && tls.certificate === undefined
    base ??= `${tls.enabled ? 'https' : 'http'}://127.0.0.1:${config.server.port}${config.server.contextPath}`
    if (user === undefined && config.broker.admin !== undefined) user = `${config.broker.admin.username}:${config.broker.admin.password}`
  }
  const dispatcher = new Agent({ connect: { rejectUnauthorized: !(values.insecure === true || selfSigned) } })
  const headers: Record<string, string> = user === undefined ? {} : { authorization: `Basic ${Buffer.from(user).toString('base64')}` }
  const path = action === 'list'
    ? `/admin/callbacks/dead-letters${values.limit === undefined ? '' : `?limit=${encodeURIComponent(values.limit)}`}`
    : `/admin/callbacks/dead-letters/${encodeURIComponent(id!)}/replay`
  try {
    const res = await request(`${base.replace(/\/$/, '')}${path}`, { method: action === 'list' ? 'GET' : 'POST', headers, dispatcher })
    const text = await res.body.text()
    if (res.statusCode !== 200) {
      process.stderr.write(`hermod-broker dlq: ${res.statusCode} ${text}\n`)
      return 1
    }
    process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`)
    return 0
  } finally {
    await dispatcher.close()
  }
}
