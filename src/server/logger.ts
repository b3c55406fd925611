// The process logger: pino, JSON by default, pretty on a TTY, with every secret-bearing field redacted.
import pino, { type Logger } from 'pino'
import type { BrokerConfig } from '../config/types.js'
import { redactText } from './redact.js'

/** Paths pino censors wherever they appear in a log object (R17). */
export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-hermod-token"]',
  'req.headers.cookie',
  'headers["x-api-key"]',
  'headers.authorization',
  '*.key',
  '*.password',
  '*.callbackBasicAuth',
  '*.callbackSecret',
  '*.keyStorePassword',
  'token',
  '*.token',
  // With its box id, a message id is the capability to read and answer the message (protocol.md section 6).
  'mid',
  '*.mid'
]

/** pino's error serializer, with URLs in the message and stack redacted (redactText). */
function serializeError (err: unknown): unknown {
  if (typeof err === 'string') return redactText(err)
  if (typeof err !== 'object' || err === null) return err
  const serialized = pino.stdSerializers.err(err as Error) as { message?: unknown, stack?: unknown }
  if (typeof serialized.message === 'string') serialized.message = redactText(serialized.message)
  if (typeof serialized.stack === 'string') serialized.stack = redactText(serialized.stack)
  return serialized
}

export function createLogger (log: BrokerConfig['broker']['log'], destination?: pino.DestinationStream): Logger {
  const pretty = log.pretty === 'auto' ? process.stdout.isTTY === true : log.pretty
  const options: pino.LoggerOptions = {
    level: log.level,
    base: { service: 'hermod-broker' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    // Text that is not ours (Fastify's warnings quote request URLs) is redacted as well.
    hooks: {
      logMethod (args, method) {
        const line = args as unknown[]
        // Without a message pino copies the error's own into `msg`: hand it that message, redacted below.
        if (line.length === 1) {
          const err = line[0] instanceof Error ? line[0] : (line[0] as { err?: unknown } | null)?.err
          if (err instanceof Error) line.push(err.message)
        }
        for (let i = 0; i < line.length; i++) if (typeof line[i] === 'string') line[i] = redactText(line[i] as string)
        method.apply(this, args)
      }
    },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination !== undefined) return pino(options, destination)
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } })
  return pino(options)
}
