// The dev surface's state, built by the composition root before the app: delivery log, recorder, sink, clock.
import type { Logger } from 'pino'
import type { BrokerConfig, DevSettings } from '../config/types.js'
import { MemoryDeliveryLog, type DeliveryLog } from './delivery-log.js'
import { DeliveryRecorder } from './delivery-recorder.js'
import { OffsetClock, type AdvanceableClock } from './dev-clock.js'
import { DevSink } from './sink-routes.js'
import { join } from 'node:path'
import { DeviceDataDir } from '../device/data-dir.js'
import type { Clock } from '../mailbox/clock.js'
import type { MailboxStore } from '../mailbox/store.js'
import { AutoAnswerer } from './auto-answer.js'
import type { CallbackDeliverer } from '../callbacks/deliverer.js'
import type { ConsoleFeed } from '../console/feed.js'
import { feedingDeliveryLog } from '../console/feed-services.js'

/** What the dev routes read besides the broker context. */
export interface DevServices {
  settings: DevSettings
  deliveries: DeliveryLog
  /** The deliverer's observer; `scheduled` is fed from the callback queue's onAttempt hook. */
  recorder: DeliveryRecorder
  sink: DevSink
  /** The virtual device's data (test CA, profiles): `<broker.data-dir>/device`, as the CLI's default. */
  deviceData: DeviceDataDir
  /** Answers accepted commands by `broker.dev.auto-answer` rules (idle without rules). */
  autoAnswer: AutoAnswerer
  /** The console's event feed (src/console/): the store's changes and every callback attempt; absent with `broker.dev.console: false`. */
  feed?: ConsoleFeed
  /** The deliverer, set by the composition root once built: the console's resend makes one more attempt with it. */
  deliverer?: Pick<CallbackDeliverer, 'attempt'>
  close (): Promise<void>
}

/**
 * The dev services, or undefined when `broker.dev.enabled` is off or the instance runs `--role api`
 * (an api-only instance serves no dev surface). On the Redis store the delivery log lives in Redis.
 */
export async function createDevServices (
  config: BrokerConfig,
  role: 'all' | 'api' | 'worker',
  store: MailboxStore,
  clock: Clock,
  feed: ConsoleFeed | undefined,
  logger?: Logger
): Promise<DevServices | undefined> {
  const settings = config.broker.dev
  if (!settings.enabled && config.broker.devSink) logger?.warn('broker.dev-sink is set but broker.dev.enabled is not: the dev sink is not served')
  if (!settings.enabled || role === 'api') return undefined
  const devLogger = logger?.child({ component: 'dev' })
  let deliveries: DeliveryLog
  if (config.broker.store === 'redis') {
    const { RedisDeliveryLog } = await import('./redis-delivery-log.js')
    const log = new RedisDeliveryLog(config.broker.redis, settings.deliveryLogSize, devLogger)
    await log.ready()
    deliveries = log
  } else {
    deliveries = new MemoryDeliveryLog(settings.deliveryLogSize)
  }
  if (feed !== undefined) deliveries = feedingDeliveryLog(deliveries, feed)
  const recorder = new DeliveryRecorder(deliveries, devLogger)
  devLogger?.warn(`the dev surface is ON under ${config.server.contextPath}/dev/ (${settings.credentials === undefined ? 'loopback callers only' : 'loopback, or Basic credentials'}): not for production`)
  const deviceData = new DeviceDataDir(join(config.broker.dataDir, 'device'))
  const { enabled, profile, rules } = settings.autoAnswer
  const autoAnswer = new AutoAnswerer({
    store, clock, devices: deviceData, profile, enabled, rules, ...(devLogger === undefined ? {} : { logger: devLogger.child({ component: 'auto-answer' }) })
  })
  return {
    settings,
    deliveries,
    recorder,
    sink: new DevSink(),
    deviceData,
    autoAnswer,
    ...(feed === undefined ? {} : { feed }),
    async close () {
      autoAnswer.close()
      await recorder.flush()
      await deliveries.close()
      await feed?.close()
    }
  }
}

/** The clock of a broker with the dev surface on the embedded store: advanceable by the dev API. */
export function devClockFor (config: BrokerConfig, role: 'all' | 'api' | 'worker'): AdvanceableClock | undefined {
  return config.broker.dev.enabled && role !== 'api' && config.broker.store === 'memory' ? new OffsetClock() : undefined
}
