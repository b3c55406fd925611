// The front process (server.front-process, R29): accepts every connection, hands it to the broker process it forks or answers it itself.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'
import type { BrokerConfig } from '../../config/types.js'
import type { BrokerRole } from '../start-checks.js'
import { listenError, listeningLine, logSelfSigned } from '../start-report.js'
import { loadTlsMaterial, type TlsMaterial } from '../tls.js'
import { createFrontAnswers } from './front-answers.js'
import { tlsOptionsToJson, WORKER_ENV, type ToFront, type ToWorker } from './messages.js'
import { WorkerState } from './worker-state.js'

export interface FrontOptions {
  logger: Logger
  role: BrokerRole
  /** The command line after the script (`start --config ...`): the broker process gets the same. */
  args: string[]
}

/**
 * Loads the TLS material, forks the broker process (the same command line, `HERMOD_FRONT_WORKER=1`), waits for
 * it to be ready, then listens. A socket is accepted paused (no byte read here) and handed to the broker process
 * while that one reports on time and sheds nothing (worker-state.ts); otherwise this process answers it itself
 * (front-answers.ts: liveness 200, everything else 503 HERMOD_OVERLOADED, Connection: close). Its event loop does
 * nothing else, so a new connection is accepted and answered without waiting for turns of the broker process's
 * slow loop (docs/performance.md, Overload). SIGTERM / SIGINT stop accepting and stop the broker process
 * gracefully, SIGHUP is passed on; the front exits with the broker process's exit code, also when that one ends
 * on its own. Resolves once listening; when the broker process fails to start (it prints why), sets the exit
 * code and resolves without listening.
 */
export async function runFront (config: BrokerConfig, options: FrontOptions): Promise<void> {
  const { logger } = options
  const tls = await loadTlsMaterial(config.server.ssl, { hostnames: [config.fqdn], dataDir: config.broker.dataDir })
  if (tls?.source === 'self-signed') logSelfSigned(logger, tls)
  const worker = forkWorker(options.args, tls)
  const exited = once(worker, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const started = await Promise.race([once(worker, 'message').then(() => 'ready' as const), exited])
  if (started !== 'ready') {
    process.exitCode = started[0] ?? 1
    return
  }

  const state = new WorkerState(config.broker.overload.shedPauseMs)
  state.beat(false)
  worker.on('message', (message: ToFront) => { if (message.t === 'beat') state.beat(message.busy) })
  worker.on('error', (err) => { logger.warn({ err }, 'front: sending to the broker process failed') })
  let closing = false
  let shed = 0
  const answers = createFrontAnswers(config, tls?.options ?? null, {
    alive: () => state.alive(),
    closing: () => closing,
    shed: () => { shed++ }
  }, logger)
  const flush = setInterval(() => {
    if (shed === 0 || !worker.connected) return
    worker.send({ t: 'shed', count: shed } satisfies ToWorker)
    shed = 0
  }, 1000).unref()

  const server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    if (!closing && worker.connected && state.takesConnections()) {
      state.queued++
      worker.send({ t: 'connection' } satisfies ToWorker, socket, { keepOpen: false }, (err) => {
        state.queued--
        if (err !== null) socket.destroy()
      })
      return
    }
    answers.emit('connection', socket)
    socket.resume()
  })
  try {
    await listen(server, config)
  } catch (err) {
    worker.kill('SIGTERM')
    await exited
    throw listenError(err as NodeJS.ErrnoException, config)
  }
  const port = (server.address() as { port: number }).port
  logger.info({ ...listeningLine(config, tls !== null, port, options.role), brokerPid: worker.pid }, 'hermod-broker listening')

  const stop = (): void => {
    if (closing) return
    closing = true
    server.close()
    worker.kill('SIGTERM')
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('SIGHUP', () => { worker.kill('SIGHUP') })
  void exited.then(([code, signal]) => {
    if (!closing) logger.error({ code, signal }, 'the broker process exited; the front process exits with it')
    closing = true
    clearInterval(flush)
    server.close()
    answers.closeAllConnections()
    process.exit(code ?? 1)
  })
}

/** The broker process: this script again, in its own process group (a terminal's Ctrl-C reaches the front, which passes it on). */
function forkWorker (args: string[], tls: TlsMaterial | null): ChildProcess {
  const script = process.argv[1]
  if (script === undefined) throw new Error('cannot fork the broker process: no script in process.argv')
  const worker = fork(script, args, { env: { ...process.env, [WORKER_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true })
  worker.send({ t: 'tls', material: tls === null ? null : { ...tls, options: tlsOptionsToJson(tls.options) } } satisfies ToWorker)
  return worker
}

async function listen (server: Server, config: BrokerConfig): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: config.server.port, host: config.server.address }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
