// Redis connection plumbing shared by the mailbox store and the BullMQ queue: reconnects, user options, shutdown.
import type { RedisOptions } from 'ioredis'
import type { RedisClient } from './topology.js'

/** Reconnect delay: 100 ms, 200 ms, ... capped at 1 s, forever (so the broker recovers by itself). */
export function reconnectDelay (attempt: number): number {
  return Math.min(attempt * 100, 1000)
}

/** `broker.redis.options` without `keyPrefix`: every key is built with the broker's own prefix (and BullMQ forbids it). */
export function userRedisOptions (options: Record<string, unknown> = {}): RedisOptions {
  const { keyPrefix: _ignored, ...rest } = options as RedisOptions
  return rest
}

/** Ends a connection: QUIT when it is up (bounded by `timeoutMs`), a plain disconnect otherwise. */
export async function closeConnection (client: RedisClient, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined
    const quit = client.quit().then(() => true, () => false)
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, timeoutMs, false) })
    const done = await Promise.race([quit, late])
    clearTimeout(timer)
    if (done) return
  }
  client.disconnect()
}
