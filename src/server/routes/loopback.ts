// Whether a request comes from this machine (the socket's address, never a forwarded header), for the loopback-only endpoints.
import type { FastifyRequest } from 'fastify'

/** Headers a reverse proxy adds: their presence means the socket's loopback address is the proxy's, not the caller's. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']

/**
 * True for 127.0.0.0/8, ::1 and their IPv4-mapped forms, unless the request may have come through a
 * reverse proxy on this machine: with `broker.trust-proxy` set, or a forwarding header present, every
 * caller would look local, so the loopback fallback is refused.
 */
export function isLoopback (request: FastifyRequest): boolean {
  const trustProxy = request.server.broker.config.broker.trustProxy
  if (trustProxy !== false && trustProxy !== 0 && trustProxy !== '') return false
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined)) return false
  const address = request.raw.socket.remoteAddress ?? ''
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
