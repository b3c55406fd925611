// The dev surface under {context-path}/dev/: the guard, then every dev route plugin.
import type { FastifyInstance } from 'fastify'
import { deviceRoutes } from '../device/routes.js'
import { autoAnswerRoutes } from './auto-answer-routes.js'
import { clockRoutes } from './clock-routes.js'
import { devContentRoutes } from './content-routes.js'
import { deliveryRoutes } from './delivery-routes.js'
import { registerDevGuard } from './guard.js'
import { listingRoutes } from './listing-routes.js'
import type { DevServices } from './services.js'
import { callbackToolsRoutes } from '../console/callback-tools-routes.js'
import { clientsRoutes } from '../console/clients-routes.js'
import { commandToolsRoutes } from '../console/command-tools-routes.js'
import { eventsRoutes } from '../console/events-routes.js'
import { devSinkRoutes } from './sink-routes.js'

/** Registered with prefix `{context-path}/dev` when the broker built DevServices (broker.dev.enabled, not `--role api`). */
export async function devRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { dev } = options
  await registerDevGuard(app, dev.settings)
  if (app.broker.config.broker.devSink) await app.register(devSinkRoutes, { sink: dev.sink })
  await app.register(deliveryRoutes, { dev })
  await app.register(listingRoutes)
  await app.register(clockRoutes, { dev })
  await app.register(devContentRoutes)
  await app.register(deviceRoutes, { dataDir: dev.deviceData })
  await app.register(autoAnswerRoutes, { dev })
  const feed = dev.feed
  if (feed !== undefined) {
    await app.register(eventsRoutes, { dev, feed })
    await app.register(commandToolsRoutes, { dev })
    await app.register(callbackToolsRoutes, { dev })
    await app.register(clientsRoutes)
  }
}
