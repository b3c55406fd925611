// The console feed on Redis: a capped stream under the key prefix, read by one blocking loop per instance.
import type { Logger } from 'pino'
import type { RedisConfig } from '../config/types.js'
import { apiConnectionOptions } from '../mailbox/redis-connection.js'
import { toStoreError } from '../mailbox/redis-replies.js'
import { checkedKeyPrefix } from '../redis/key-prefix.js'
import { closeConnection } from '../redis/connection.js'
import { createRedisClient, duplicateClient, type RedisClient } from '../redis/topology.js'
import { ThrottledLog } from '../redis/throttled-log.js'
import { compareFeedIds, FEED_SIZE, type ConsoleEvent, type ConsoleFeed, type NewConsoleEvent } from './feed.js'

/** How long one XREAD blocks, ms (the loop notices a close within this). */
const BLOCK_MS = 5000

/**
 * XADD with MAXLEN ~ FEED_SIZE on `{prefix}:{dev}:console`: every instance appends what it did, and every
 * instance's console reads the same stream (XRANGE to resume, XREAD BLOCK for what follows), so a command
 * posted to one instance shows on the console of any. Append failures are logged and dropped.
 */
export class RedisConsoleFeed implements ConsoleFeed {
  private readonly redis: RedisClient
  private reader: RedisClient | undefined
  private readonly key: string
  private readonly listeners = new Set<(event: ConsoleEvent) => void>()
  private closed = false
  private loop: Promise<void> | undefined
  private readonly problems: ThrottledLog

  /** @param size entries kept, about (MAXLEN ~: whole stream nodes are trimmed) */
  constructor (config: RedisConfig, logger?: Logger, private readonly size = FEED_SIZE) {
    this.key = `${checkedKeyPrefix(config.prefix)}:{dev}:console`
    this.problems = new ThrottledLog(logger, 'console feed: Redis problem (the console misses events meanwhile)')
    // In the configured mode (standalone, Cluster, Sentinel), like the store: the stream is one key, in a slot of its own.
    this.redis = createRedisClient(config, apiConnectionOptions(2000, config.options))
    this.redis.on('error', () => {})
    // Read from the start: what is appended before the first console connects is in the stream for it anyway.
    this.loop = this.read()
  }

  async append (event: NewConsoleEvent): Promise<void> {
    try {
      await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.size), '*', 'e', JSON.stringify(event))
    } catch (err) {
      this.problems.error('append', err as Error)
    }
  }

  async since (id: string | undefined, limit: number): Promise<{ events: ConsoleEvent[], gap: boolean }> {
    try {
      const entries = id === undefined
        ? (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', limit)).reverse()
        : await this.redis.xrange(this.key, `(${id}`, '+', 'COUNT', limit + 1)
      const events = entries.slice(0, limit).map(([entryId, fields]) => parse(entryId, fields)).filter((e) => e !== undefined)
      let gap = entries.length > limit
      if (id !== undefined && !gap) gap = await this.droppedAfter(id)
      return { events, gap }
    } catch (err) {
      throw toStoreError(err)
    }
  }

  /** Whether trimming may have dropped entries after `id`: some were trimmed (Redis 7 counts), and `id` is older than the oldest kept. */
  private async droppedAfter (id: string): Promise<boolean> {
    const info = await this.redis.call('XINFO', 'STREAM', this.key).catch(() => null) as unknown[] | null
    if (info === null) return false
    const field = (name: string): unknown => { const at = info.indexOf(name); return at < 0 ? undefined : info[at + 1] }
    const added = field('entries-added')
    if (typeof added === 'number' && added <= Number(field('length'))) return false
    const first = field('first-entry') as [string, unknown] | null | undefined
    return first !== null && first !== undefined && compareFeedIds(id, first[0]) < 0
  }

  subscribe (listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.closed = true
    this.listeners.clear()
    // The blocked or queued read fails with the connection; a read stuck in a reconnect is not waited for.
    this.reader?.disconnect(false)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.loop?.catch(() => {}), new Promise((resolve) => { timer = setTimeout(resolve, 200) })])
    clearTimeout(timer)
    await closeConnection(this.redis)
  }

  /** One XREAD BLOCK loop per instance, fanning out to the SSE streams; it starts at the newest entry. */
  private async read (): Promise<void> {
    // Its commands wait for the connection (offline queue) instead of failing while it connects.
    const reader = duplicateClient(this.redis, { commandTimeout: BLOCK_MS + 5000, enableOfflineQueue: true, maxRetriesPerRequest: null })
    reader.on('error', () => {})
    this.reader = reader
    // From the newest entry now, by id (not `$`): a read that fails and is retried misses nothing appended meanwhile.
    let last = '$'
    while (!this.closed && last === '$') {
      try {
        const [newest] = await reader.xrevrange(this.key, '+', '-', 'COUNT', 1)
        last = newest?.[0] ?? '0-0'
      } catch (err) {
        if (this.closed) return
        this.problems.error('read', err as Error)
        await pause(1000)
      }
    }
    while (!this.closed) {
      try {
        const reply = await reader.xread('COUNT', 500, 'BLOCK', BLOCK_MS, 'STREAMS', this.key, last)
        for (const [, entries] of reply ?? []) {
          for (const [entryId, fields] of entries) {
            last = entryId
            const event = parse(entryId, fields)
            if (event === undefined) continue
            for (const listener of this.listeners) {
              try { listener(event) } catch {}
            }
          }
        }
      } catch (err) {
        if (this.closed) break
        this.problems.error('read', err as Error)
        await pause(1000)
      }
    }
  }
}

/** A retry's wait that never holds the process open. */
async function pause (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms).unref())
}

function parse (id: string, fields: string[]): ConsoleEvent | undefined {
  try {
    return { id, ...(JSON.parse(fields[1] ?? '') as NewConsoleEvent) }
  } catch {
    return undefined
  }
}
