// Builds the console feed for the configured store, and the delivery log that also feeds it.
import type { Logger } from 'pino'
import type { BrokerConfig } from '../config/types.js'
import type { DeliveryLog } from '../dev/delivery-log.js'
import { MemoryConsoleFeed, type ConsoleFeed } from './feed.js'

/** The feed of this broker: in this process on the embedded store, a Redis stream shared by every instance otherwise. */
export async function createConsoleFeed (config: BrokerConfig, logger?: Logger): Promise<ConsoleFeed> {
  if (config.broker.store !== 'redis') return new MemoryConsoleFeed()
  const { RedisConsoleFeed } = await import('./redis-feed.js')
  return new RedisConsoleFeed(config.broker.redis, logger)
}

/** `log`, whose every appended attempt is also a `callback` event of the feed. */
export function feedingDeliveryLog (log: DeliveryLog, feed: ConsoleFeed): DeliveryLog {
  return {
    async append (entry) {
      await log.append(entry)
      await feed.append({
        at: entry.at,
        kind: 'callback',
        commandId: entry.commandId,
        state: entry.state,
        attempt: entry.attempt,
        outcome: entry.outcome,
        ...(entry.status === undefined ? {} : { status: entry.status })
      })
    },
    list: async (query, limit) => await log.list(query, limit),
    onAppend: (listener) => log.onAppend(listener),
    clear: async () => { await log.clear() },
    close: async () => { await log.close() }
  }
}
