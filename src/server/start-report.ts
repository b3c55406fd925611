// What `hermod-broker start` reports: the listening line, the self-signed certificate, listen errors (also the front's, front/).
import type { Logger } from 'pino'
import type { BrokerConfig } from '../config/types.js'
import type { BrokerRole } from './start-checks.js'
import type { TlsMaterial } from './tls.js'

/** The fields of the "hermod-broker listening" line (also the front's, front/front-process.ts). */
export function listeningLine (config: BrokerConfig, tls: boolean, port: number, role: BrokerRole): Record<string, unknown> {
  const scheme = tls ? 'https' : 'http'
  return {
    url: `${scheme}://localhost:${port}${config.server.contextPath}${config.uriBase}`,
    port,
    // The process to signal: `kill -HUP <pid>` reloads allowed-clients, SIGTERM stops gracefully.
    pid: process.pid,
    role,
    publicUrl: config.publicUrl,
    store: config.broker.store,
    clients: config.allowedClients.length,
    docs: `${scheme}://localhost:${port}${config.server.contextPath}/swagger-ui`
  }
}

export function logSelfSigned (logger: Logger, tls: TlsMaterial): void {
  const { kept } = tls
  const use = '(development only; configure server.ssl.key-store for real use)'
  if (kept === undefined || 'problem' in kept) {
    logger.warn({ sha256: tls.fingerprint256, ...(kept === undefined ? {} : { problem: kept.problem }) }, `TLS: generated a self-signed certificate for localhost, kept in memory only: a new one at every start ${use}`)
  } else if (kept.reused) {
    logger.warn({ sha256: tls.fingerprint256, dir: kept.dir }, `TLS: self-signed certificate for localhost reused from ${kept.dir} (delete the folder for a new one) ${use}`)
  } else {
    logger.warn({ sha256: tls.fingerprint256, dir: kept.dir }, `TLS: generated a self-signed certificate for localhost, kept in ${kept.dir} for the next starts ${use}`)
  }
}

/** The listen error with what to do about the usual causes; the original stays as `cause`. */
export function listenError (err: NodeJS.ErrnoException, config: BrokerConfig): Error {
  const where = `${config.server.address} port ${config.server.port}`
  if (err.code === 'EADDRINUSE') return new Error(`cannot listen on ${where}: the port is in use by another process (stop it, or choose another with --port N / SERVER_PORT)`, { cause: err })
  if (err.code === 'EACCES') return new Error(`cannot listen on ${where}: permission denied (ports below 1024 need privileges; choose another with --port N / SERVER_PORT)`, { cause: err })
  if (err.code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${where}: no interface has that address (check server.address)`, { cause: err })
  return err
}
