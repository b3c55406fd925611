// The start-up check that the data under the key prefix was written in the key layout this instance uses.
import type { RedisClient } from '../redis/topology.js'
import type { RedisKeys } from './keys.js'

/** The marker value of a layout: group tags (standalone, Sentinel) or B group buckets (Cluster). */
export function layoutName (keys: RedisKeys): string {
  return keys.groupBuckets === undefined ? 'group-tags' : `group-buckets=${keys.groupBuckets}`
}

/**
 * Writes the layout marker when there is none and returns why this instance must not start when the data is in
 * another layout: another number of buckets, or (on a Cluster) pending commands or undelivered callbacks that an
 * earlier version wrote with a hash tag per group. Undefined when the layouts agree.
 */
export async function layoutConflict (redis: RedisClient, keys: RedisKeys): Promise<string | undefined> {
  const mine = layoutName(keys)
  const marker = keys.layout()
  const found = await redis.get(marker)
  if (found === mine) return undefined
  if (found !== null) {
    return `the data under broker.redis.prefix "${keys.prefix}" was written with key layout ${found}, this instance uses ${mine}. ` +
      'Every instance of a deployment needs the same broker.redis.cluster.group-buckets, and it cannot change while data exists: ' +
      'set it back, or use a new broker.redis.prefix'
  }
  if (keys.groupBuckets !== undefined) {
    const earlier = await groupsWithEarlierWork(redis, keys)
    if (earlier > 0) {
      return `the data under broker.redis.prefix "${keys.prefix}" holds pending commands or undelivered callbacks of ${earlier} group(s) ` +
        'written by an earlier version (a hash tag per group), which this version does not read on a Cluster (it keeps groups in ' +
        `${keys.groupBuckets} buckets). Let the old deployment drain (no pending command, every callback delivered), or start this ` +
        'version with a new broker.redis.prefix'
    }
  }
  // Two instances starting at once: the first marker wins, and the loser compares against it.
  const previous = await redis.set(marker, mine, 'NX', 'GET')
  return previous === null || previous === mine ? undefined : await layoutConflict(redis, keys)
}

/** Registered groups whose deadlines or outbox exist under the per-group tag of earlier versions (`{prefix}:{g:<group>}:`). */
async function groupsWithEarlierWork (redis: RedisClient, keys: RedisKeys): Promise<number> {
  const groups = await redis.smembers(keys.groups())
  let count = 0
  for (let i = 0; i < groups.length; i += 500) {
    const found = await Promise.all(groups.slice(i, i + 500).map(async (group) => {
      const base = `${keys.prefix}:{g:${encodeURIComponent(group)}}:`
      return await redis.exists(base + 'due', base + 'oq')
    }))
    count += found.filter((n) => n > 0).length
  }
  return count
}
