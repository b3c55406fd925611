// Callback queue shards on BullMQ: which shard a client's callbacks go to, and each shard's key prefix (hash tag).
import { checkedKeyPrefix } from '../redis/key-prefix.js'

/**
 * The shard of `clientId` among `count`: FNV-1a (32 bit) of its UTF-16 code units, modulo `count`.
 * Stable across processes, versions and restarts, so every instance enqueues a client's callbacks
 * into the same queue (the job id, the event id, stays unique per queue: a re-enqueue is ignored).
 */
export function shardOf (clientId: string, count: number): number {
  if (count <= 1) return 0
  let hash = 0x811c9dc5
  for (let i = 0; i < clientId.length; i++) {
    hash ^= clientId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % count
}

/**
 * BullMQ's key prefix of shard `index` out of `count`, so every queue key reads
 * `<prefix>:{cb:<index>}:<queue>:<suffix>`: all keys of one shard share a Cluster slot (BullMQ's
 * multi-key scripts need it) and different shards land in different slots, hence on different
 * masters. One shard keeps the historic `<prefix>:{cb}` (a standalone broker upgraded with the
 * default keeps its queued callbacks and dead letters).
 */
export function shardPrefix (prefix: string, index: number, count: number): string {
  checkedKeyPrefix(prefix)
  return count <= 1 ? `${prefix}:{cb}` : `${prefix}:{cb:${index}}`
}

/** Each shard's worker concurrency: `concurrency` split over the shards (rounded up), so the total stays about `concurrency`. */
export function shardConcurrency (concurrency: number, count: number): number {
  return Math.max(1, Math.ceil(Math.max(1, concurrency) / Math.max(1, count)))
}
