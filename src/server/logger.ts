// The process logger: pino, JSON by default, pretty on a TTY, with every secret-bearing field redacted.
import pino, { type Logger } from 'pino'
import type { BrokerConfig } from '../config/types.js'

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
  '*.token'
]

export function createLogger (log: BrokerConfig['broker']['log'], destination?: pino.DestinationStream): Logger {
  const pretty = log.pretty === 'auto' ? process.stdout.isTTY === true : log.pretty
  const options: pino.LoggerOptions = {
    level: log.level,
    base: { service: 'hermod-broker' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination !== undefined) return pino(options, destination)
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } })
  return pino(options)
}
