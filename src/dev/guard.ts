// Who may use {context-path}/dev/: loopback callers, and others only with broker.dev credentials (Basic).
import basicAuth from '@fastify/basic-auth'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { DevSettings } from '../config/types.js'
import { CREDENTIALS_REFUSED, HERMOD_FORBIDDEN, HERMOD_UNAUTHORIZED } from '../server/errors.js'
import { isLoopback } from '../server/routes/loopback.js'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * Installs the guard on the dev scope: a loopback caller passes (the broker posts its own callbacks to
 * the dev sink); anyone else needs the configured credentials, or gets 403 when none are configured.
 */
export async function registerDevGuard (app: FastifyInstance, settings: DevSettings): Promise<void> {
  const credentials = settings.credentials
  if (credentials === undefined) {
    app.addHook('onRequest', async (request) => {
      if (!isLoopback(request)) throw new HERMOD_FORBIDDEN('the dev API answers loopback callers only unless broker.dev credentials are set')
    })
    return
  }
  const expected = digest(`${credentials.username}:${credentials.password}`)
  await app.register(basicAuth, {
    authenticate: { realm: 'hermod-broker dev' },
    validate: async (username, password) => {
      if (!timingSafeEqual(digest(`${username}:${password}`), expected)) throw new HERMOD_UNAUTHORIZED(CREDENTIALS_REFUSED)
    }
  })
  app.addHook('onRequest', (request, reply, done) => {
    if (isLoopback(request)) return done()
    app.basicAuth(request, reply, done)
  })
}
