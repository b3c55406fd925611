// Start-up safety checks: configurations that must not run (a placeholder key, a split role on the embedded store)
// and ones worth a loud warning.
import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import type { BrokerConfig } from '../config/types.js'

/** The broker's roles: `all` serves and sweeps; `api` only serves; `worker` sweeps and delivers. */
export type BrokerRole = 'all' | 'api' | 'worker'

/** A configuration the broker refuses to start on; the message says why and what to do. */
export class StartRefusedError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'StartRefusedError'
  }
}

/** Key values that mean "not set yet" in an example config (compared case-insensitively, trimmed). */
const PLACEHOLDER_KEYS = new Set(['change_me', 'changeme', 'change-me', 'changeit', 'secret', 'todo', 'xxx'])

/**
 * SHA-256 of API keys printed in public places (the bundled config/application.yml and README, the
 * Hermod documentation's examples): anyone may know them. Hashes, so the keys are not repeated here.
 */
const PUBLISHED_KEY_HASHES = new Set([
  '32999a3b62e481d9b4d7a350af839058e07c0e553642b3a2aa7a373e1b597d0c', // demo (config/application.yml, README)
  '8e5a6556f84f4528535750de00218a4c2f5d3e54a02441a0caa3a2cff999e4ec', // examples/hermod/cod-hermod-camelcase.yml
  'aee9f9fc7919b099870b68c6642afdcb19a8a67421b21eb153785d8147a8dfb2', // examples/hermod/cod-hermod-camelcase.yml
  'c72005c84a79bec838f7624af4f17c6bba29039ab0e4d1fc1cb8dc64ca94d013' // examples/hermod/cod-hermod-kebabcase.yml
])

/** True when `key` is one of the API keys published with the project or in Hermod's documentation. */
export function isPublishedKey (key: string): boolean {
  return PUBLISHED_KEY_HASHES.has(createHash('sha256').update(key).digest('hex'))
}

/** True when `address` accepts connections from this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackAddress (address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * Refuses what must not run: a client key left at an example placeholder (`CHANGE_ME`), and roles
 * other than `all` on the embedded store (its state lives in one process: an `api` instance would
 * never time out or purge anything, a `worker` would see no command).
 * @throws StartRefusedError naming the setting and the fix
 */
export function assertStartable (config: BrokerConfig, role: BrokerRole): void {
  if (role !== 'all' && config.broker.store === 'memory') {
    throw new StartRefusedError(`--role ${role} needs the Redis store: the embedded store (broker.store: memory) lives in one process, ` +
      'so an api instance would never time out or purge a command and a worker would see none. Use --role all (the default), ' +
      'or set broker.store: redis (BROKER_STORE=redis) with broker.redis.url on every instance')
  }
  config.allowedClients.forEach((client, index) => {
    if (PLACEHOLDER_KEYS.has(client.key.trim().toLowerCase())) {
      throw new StartRefusedError(`allowed-clients[${index}] (client-id ${client.clientId}): the key is still the example placeholder. ` +
        `Set a real one (ALLOWEDCLIENTS_${index}_KEY=..., or the variable the config's placeholder names); ` +
        `\`hermod-broker generate-client ${client.clientId}\` prints a fresh key and its X-Api-Key`)
    }
  })
}

/** Warnings for a start that works but exposes something: a published API key reachable from other machines. */
export function startWarnings (config: BrokerConfig): string[] {
  if (isLoopbackAddress(config.server.address)) return []
  const published = config.allowedClients.filter((client) => isPublishedKey(client.key)).map((client) => client.clientId)
  if (published.length === 0) return []
  return [`SECURITY: the API key of client ${published.join(', ')} is published (README, example configs) and the broker listens on ` +
    `${config.server.address}, beyond loopback: anyone who can reach this port can post commands as that client. ` +
    'Set server.address: 127.0.0.1, or replace the key (hermod-broker generate-client <id>)']
}
