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
function serializeError (err: Error): pino.SerializedError {
  const serialized = pino.stdSerializers.err(err)
  serialized.message = redactText(serialized.message)
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
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') (args as unknown[])[i] = redactText(args[i] as string)
        method.apply(this, args)
      }
    },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination !== undefined) return pino(options, destination)
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } })
  return pino(options)
}
