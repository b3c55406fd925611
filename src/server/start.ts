// The process: load TLS, build the broker, listen, run the loops, reload clients on SIGHUP, shut down gracefully.
import closeWithGrace from 'close-with-grace'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { describeConfig, loadConfig } from '../config/load.js'
import type { BrokerConfig } from '../config/types.js'
import { createBroker, type Broker } from './broker.js'
import { loadTlsMaterial } from './tls.js'

export interface StartOptions {
  logger: Logger
  role?: 'all' | 'api' | 'worker'
  /** How `loadConfig` was called, to reload `allowed-clients` on SIGHUP. */
  reload?: Parameters<typeof loadConfig>[0]
  /** Install signal handlers (the CLI does; embedding code and tests usually do not). */
  handleSignals?: boolean
}

/** Starts a listening broker on `config`; resolves once it accepts connections. */
export async function startBroker (config: BrokerConfig, options: StartOptions): Promise<Broker> {
  const { logger } = options
  const tls = await loadTlsMaterial(config.server.ssl, { hostnames: [config.fqdn] })
  if (tls?.source === 'self-signed') {
    logger.warn({ sha256: tls.fingerprint256 }, 'TLS: generated a self-signed certificate for localhost (development only; configure server.ssl.key-store for real use)')
  }
  const broker = await createBroker(config, {
    logger,
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(tls?.source === 'self-signed' ? { extraCa: [tls.certificatePem] } : {}),
    server: {
      ...(tls === null ? {} : { https: tls.options }),
      // Slow or dripping clients are cut off (R26); a long poll holds an idle socket up to its wait.
      requestTimeout: 30_000,
      connectionTimeout: (config.broker.maxLongPollSeconds + 30) * 1000,
      keepAliveTimeout: 72_000
    }
  })
  await broker.app.listen({ port: config.server.port, host: config.server.address, listenTextResolver: (address) => `socket bound at ${address}` })
  broker.start()
  const scheme = tls === null ? 'http' : 'https'
  const port = (broker.app.server.address() as AddressInfo).port
  logger.info({
    url: `${scheme}://localhost:${port}${config.server.contextPath}${config.uriBase}`,
    port,
    publicUrl: config.publicUrl,
    store: config.broker.store,
    clients: config.allowedClients.length,
    docs: `${scheme}://localhost:${port}${config.server.contextPath}/swagger-ui`
  }, 'hermod-broker listening')

  if (options.handleSignals === true) {
    closeWithGrace({ delay: 20_000, logger, skip: ['SIGHUP'] }, async ({ signal, err }) => {
      if (err !== undefined) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal }, 'shutting down')
      await broker.close()
    })
    process.on('SIGHUP', () => {
      loadConfig(options.reload ?? {}).then(({ config: next }) => {
        broker.context.clients.replace(next.allowedClients)
        logger.info({ clients: describeConfig(next).allowedClients }, 'allowed-clients reloaded')
      }, (err: Error) => {
        logger.error({ problems: (err as { problems?: string[] }).problems ?? [err.message] }, 'config reload failed; keeping the current clients')
      })
    })
  }
  return broker
}
