// generateclient: a fresh client entry as YAML to paste under allowed-clients (endpoint and CLI).
import { randomBytes } from 'node:crypto'
import { apiKeyHeader } from './api-key.js'

/** Client ids generateclient accepts: what is safe in YAML and in a header without quoting. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** A 256-bit key as 64 lowercase hex characters. */
export function generateKey (): string {
  return randomBytes(32).toString('hex')
}

/**
 * The YAML list item Hermod's generateclient prints, preceded by the X-Api-Key comment line.
 * `group` defaults to the client id (clients that should share boxes get the same group by hand).
 */
export function generateClientYaml (clientId: string, group = clientId, key = generateKey()): string {
  return [
    `# X-Api-Key: ${apiKeyHeader(clientId, key)}`,
    `- client-id: ${clientId}`,
    `  key: ${key}`,
    `  group: ${group}`,
    '  callback-url: https://server.example.com/prime_explorer/ws/hermod',
    '#  callback-basic-auth: user:password',
    ''
  ].join('\n')
}
