// Whether a request comes from this machine (the socket's address, never a forwarded header).
import type { FastifyRequest } from 'fastify'

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback (request: FastifyRequest): boolean {
  const address = request.raw.socket.remoteAddress ?? ''
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
