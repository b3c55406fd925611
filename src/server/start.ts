// The process: load TLS, build the broker, listen, run the loops, reload clients on SIGHUP, shut down gracefully.
import closeWithGrace from 'close-with-grace'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { describeConfig, loadConfig } from '../config/load.js'
import type { BrokerConfig } from '../config/types.js'
import { createBroker, type Broker } from './broker.js'
import { assertStartable, startWarnings, type BrokerRole } from './start-checks.js'
import type { FrontLink } from './front/worker-link.js'
import { listenError, listeningLine, logSelfSigned } from './start-report.js'
import { loadTlsMaterial } from './tls.js'

export interface StartOptions {
  logger: Logger
  role?: BrokerRole
  /** How `loadConfig` was called, to reload `allowed-clients` on SIGHUP. */
  reload?: Parameters<typeof loadConfig>[0]
  /** Install signal handlers (the CLI does; embedding code and tests usually do not). */
  handleSignals?: boolean
  /** Forked by a front process (server.front-process): serve the sockets it hands over instead of listening. */
  front?: FrontLink
}

/**
 * Starts a listening broker on `config`; resolves once it accepts connections. When start-up fails after
 * the store is open (port in use, EACCES), everything opened is closed again before the error is rethrown,
 * so the process can exit.
 * @throws StartRefusedError for a configuration that must not run (start-checks.ts), or the listen error
 */
export async function startBroker (config: BrokerConfig, options: StartOptions): Promise<Broker> {
  const { logger } = options
  assertStartable(config, options.role ?? 'all')
  for (const warning of startWarnings(config)) logger.warn(warning)
  const { front } = options
  const tls = front !== undefined
    ? front.tls
    : await loadTlsMaterial(config.server.ssl, { hostnames: [config.fqdn], dataDir: config.broker.dataDir })
  if (tls?.source === 'self-signed' && front === undefined) logSelfSigned(logger, tls)
  const broker = await createBroker(config, {
    logger,
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(tls?.source === 'self-signed' ? { extraCa: [tls.certificatePem] } : {}),
    // Timeouts and connection limits come from config.server (http-server.ts).
    server: tls === null ? {} : { https: tls.options }
  })
  if (front !== undefined) {
    front.serve(broker)
    await broker.app.ready()
  } else {
    try {
      await broker.app.listen({ port: config.server.port, host: config.server.address, listenTextResolver: (address) => `socket bound at ${address}` })
    } catch (err) {
      await broker.close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'closing after a failed start failed'))
      throw listenError(err as NodeJS.ErrnoException, config)
    }
  }
  broker.start()
  if (front !== undefined) {
    front.ready()
    logger.debug({ pid: process.pid }, 'broker process serving the connections of its front process')
  } else {
    const port = (broker.app.server.address() as AddressInfo).port
    logger.info(listeningLine(config, tls !== null, port, options.role ?? 'all'), 'hermod-broker listening')
  }

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
