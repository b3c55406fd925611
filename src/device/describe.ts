// What a user would see for a message: the command type, the visible description items decoded, what is asked.
import { commandObject, type DeviceMessage } from './answer.js'

type Json = Record<string, unknown>
const MAX_TEXT = 2000

/** One item (`description`, `tbs`) as text: text content decoded, anything else by type and size. */
export function describeItem (item: unknown): string {
  if (typeof item !== 'object' || item === null) return String(item)
  const { description, key, data, content_type: type, content_encoding: encoding } = item as Json
  const label = String(description ?? key ?? 'item')
  const contentType = String(type ?? 'text/plain')
  const text = typeof data === 'string' ? data : ''
  if (contentType === 'application/hermod+content-id') return `${label}: [content from the content provider: ${text}]`
  const bytes = String(encoding ?? '').toLowerCase() === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8')
  if (contentType.startsWith('text/') || contentType.endsWith('json') || contentType.endsWith('xml')) {
    const decoded = bytes.toString('utf8')
    return `${label}: ${decoded.length > MAX_TEXT ? `${decoded.slice(0, MAX_TEXT)}…` : decoded}`
  }
  return `${label}: [${contentType}, ${bytes.length} bytes]`
}

/** The lines a user would read before approving `message` (invisible items are left out, like the app does). */
export function describeMessage (message: DeviceMessage & { header?: Json }): string[] {
  const command = commandObject(message.command)
  const params = (typeof command.params === 'object' && command.params !== null ? command.params : command) as Json
  const lines = [`${message.commandType.toUpperCase()} request${typeof message.header?.externalId === 'string' ? ` (${message.header.externalId})` : ''}`]
  const visible = (items: unknown): unknown[] => (Array.isArray(items) ? items : []).filter((item) => (item as Json)?.visible !== false)
  for (const item of visible(params.description)) lines.push(`  ${describeItem(item)}`)
  for (const item of visible(Array.isArray(params.tbs) ? params.tbs : [])) lines.push(`  to sign: ${describeItem(item)}`)
  if (typeof params.tbs === 'string') lines.push(`  to sign: ${describeItem({ data: params.tbs, content_encoding: 'base64' })}`)
  if (message.commandType.toLowerCase() === 'provision') {
    const profile = (command.profile ?? {}) as Json
    const requests = Array.isArray(profile.keygenrequests) ? profile.keygenrequests as Json[] : []
    lines.push(`  user: ${String(command.userid ?? '(none)')}, profile: ${String(profile.name ?? '(none)')}`)
    for (const request of requests) {
      const prios = (Array.isArray(request.keytypeprios) ? request.keytypeprios as Json[] : []).map((p) => `${String(p.keytype)} ${String(p.keylength ?? '')}`.trim())
      lines.push(`  new key ${String(request.keyid)} (${String(request.usage ?? 'any use')}): ${prios.join(' or ')}`)
    }
  }
  return lines
}
