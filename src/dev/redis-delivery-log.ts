// The delivery log on Redis: a capped list under the key prefix, announced on a channel, shared by every instance.
import { createRedisClient, duplicateClient, type RedisClient } from '../redis/topology.js'
import type { Logger } from 'pino'
import type { RedisConfig } from '../config/types.js'
import { RedisKeys } from '../mailbox/keys.js'
import { SUBSCRIBER_OVERRIDES, apiConnectionOptions } from '../mailbox/redis-connection.js'
import { toStoreError } from '../mailbox/redis-replies.js'
import { closeConnection } from '../redis/connection.js'
import { AppendListeners, matchesDelivery, type DeliveryLog, type DeliveryLogEntry, type DeliveryQuery } from './delivery-log.js'

/**
 * LPUSH + LTRIM keep the newest `size` attempts (one key, one slot: `{prefix}:{dev}:deliveries`);
 * each entry is also PUBLISHed, so a waiter on any instance hears of it. Append failures (Redis away)
 * are logged and dropped: the log is a development aid and never holds up a delivery.
 */
export class RedisDeliveryLog implements DeliveryLog {
  private readonly redis: RedisClient
  private readonly subscriber: RedisClient
  private readonly keys: RedisKeys
  private readonly listeners = new AppendListeners()
  private readonly subscribed: Promise<unknown>

  constructor (config: RedisConfig, private readonly size: number, private readonly logger?: Logger) {
    this.keys = new RedisKeys(config.prefix)
    this.redis = createRedisClient(config, apiConnectionOptions(2000, config.options))
    this.subscriber = duplicateClient(this.redis, SUBSCRIBER_OVERRIDES)
    for (const client of [this.redis, this.subscriber]) client.on('error', () => {})
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.keys.devDeliveryChannel()) return
      try { this.listeners.emit(JSON.parse(text) as DeliveryLogEntry) } catch {}
    })
    this.subscribed = this.subscriber.subscribe(this.keys.devDeliveryChannel()).catch((err: Error) => this.logger?.warn({ err: { message: err.message } }, 'delivery log cannot subscribe'))
  }

  /** Resolves once the subscription stands (waiters hear of every later append), or after `waitMs` when Redis is not there yet. */
  async ready (waitMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.subscribed, new Promise((resolve) => { timer = setTimeout(resolve, waitMs) })])
    clearTimeout(timer)
  }

  async append (entry: DeliveryLogEntry): Promise<void> {
    const text = JSON.stringify(entry)
    const key = this.keys.devDeliveryLog()
    try {
      await this.redis.multi().lpush(key, text).ltrim(key, 0, this.size - 1).publish(this.keys.devDeliveryChannel(), text).exec()
    } catch (err) {
      this.logger?.warn({ err: { message: (err as Error).message } }, 'delivery log append failed')
    }
  }

  async list (query: DeliveryQuery, limit: number): Promise<DeliveryLogEntry[]> {
    let texts: string[]
    try {
      texts = await this.redis.lrange(this.keys.devDeliveryLog(), 0, this.size - 1)
    } catch (err) {
      throw toStoreError(err)
    }
    const found: DeliveryLogEntry[] = []
    for (const text of texts) {
      if (found.length >= limit) break
      const entry = JSON.parse(text) as DeliveryLogEntry
      if (matchesDelivery(entry, query)) found.push(entry)
    }
    return found
  }

  onAppend (listener: (entry: DeliveryLogEntry) => void): () => void {
    return this.listeners.add(listener)
  }

  async clear (): Promise<void> {
    try {
      await this.redis.del(this.keys.devDeliveryLog())
    } catch (err) {
      throw toStoreError(err)
    }
  }

  async close (): Promise<void> {
    this.listeners.clear()
    await Promise.all([closeConnection(this.redis), closeConnection(this.subscriber)])
  }
}
