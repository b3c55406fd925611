// Serves the console page and its modules from src/console/web (also when running from dist), behind the dev guard.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { registerDevGuard } from '../dev/guard.js'
import type { DevServices } from '../dev/services.js'

/**
 * The page's folder. From source (`tsx src/...`) it sits next to this module; the compiled module
 * (`dist/src/console/*.js`) serves the same files from `src/console/web/` (no copy step, like the Lua scripts).
 */
export function webDirectory (moduleUrl: string = import.meta.url): string {
  const candidates = [new URL('./web/', moduleUrl), new URL('../../../src/console/web/', moduleUrl)]
  const found = candidates.find((url) => existsSync(fileURLToPath(url)))
  return fileURLToPath(found ?? candidates[0]!)
}

/** Registered with prefix `{context-path}/console`: `/` is the page, the rest its modules and stylesheet. */
export async function consolePageRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  await registerDevGuard(app, options.dev.settings)
  app.addHook('onSend', async (_request, reply, payload) => {
    // Nothing beyond the broker: the page loads its own modules and talks to its own origin only.
    void reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
    void reply.header('x-content-type-options', 'nosniff')
    return payload
  })
  app.get('', { schema: { hide: true } }, async (request, reply) => await reply.redirect(`${request.url}/`))
  await app.register(fastifyStatic, { root: webDirectory(), prefix: '/', index: 'index.html', cacheControl: false, etag: true, lastModified: false })
}
