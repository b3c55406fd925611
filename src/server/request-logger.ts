// A request's logger that builds its pino child (the request id binding) only when something is logged; the request id.
import type { IncomingMessage } from 'node:http'
import type { Bindings, Logger } from 'pino'

/** Longest X-Request-Id taken as the request id; a longer one is cut (it is written on every line of the request). */
export const MAX_REQUEST_ID_LENGTH = 128
let requestCount = 0

/** Fastify's `genReqId`: the client's X-Request-Id (at most MAX_REQUEST_ID_LENGTH characters), else `req-N` as Fastify numbers them. */
export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  if (typeof given === 'string' && given !== '') return given.length <= MAX_REQUEST_ID_LENGTH ? given : given.slice(0, MAX_REQUEST_ID_LENGTH)
  requestCount = (requestCount + 1) % 2147483647
  return `req-${requestCount.toString(36)}`
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * What Fastify hands each request as `request.log`. Building a pino child costs a few µs per request
 * (the bindings are serialised and redacted); at `warn`, most requests never log, so the child is
 * built on the first line actually written. The output is the same as the eager child's.
 */
export class LazyRequestLogger {
  private built: Logger | undefined

  constructor (private readonly parent: Logger, private readonly bindings: Bindings) {}

  private get logger (): Logger {
    if (this.built === undefined) this.built = this.parent.child(this.bindings)
    return this.built
  }

  get level (): string { return (this.built ?? this.parent).level }
  set level (level: string) { this.logger.level = level }

  isLevelEnabled (level: string): boolean { return (this.built ?? this.parent).isLevelEnabled(level) }

  fatal (...args: unknown[]): void { this.write('fatal', args) }
  error (...args: unknown[]): void { this.write('error', args) }
  warn (...args: unknown[]): void { this.write('warn', args) }
  info (...args: unknown[]): void { this.write('info', args) }
  debug (...args: unknown[]): void { this.write('debug', args) }
  trace (...args: unknown[]): void { this.write('trace', args) }
  silent (): void {}

  child (bindings: Bindings, options?: object): Logger {
    return options === undefined ? this.logger.child(bindings) : this.logger.child(bindings, options)
  }

  private write (level: Level, args: unknown[]): void {
    if (!(this.built ?? this.parent).isLevelEnabled(level)) return
    const logger = this.logger
    ;(logger[level] as (...a: unknown[]) => void).apply(logger, args)
  }
}
