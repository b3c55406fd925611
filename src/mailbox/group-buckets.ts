// On a Redis Cluster, groups share B bucket hash tags so that each bucket's index of groups with work due sits in their slot.
import calculateSlot from 'cluster-key-slot'

const SLOTS = 16_384
/** Most buckets a deployment can have (their tags take ~0.2 s to find at 1,024). */
export const MAX_GROUP_BUCKETS = 1_024

/**
 * The hash tags of B buckets, each one in its own B-th of the slot space (`gb:<b>:<salt>`, the first salt
 * whose slot falls in bucket b's range), so that Redis Cluster's contiguous slot ranges give every master
 * its share of buckets. Every instance computes the same tags from B alone.
 */
export function bucketTags (buckets: number): string[] {
  if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_GROUP_BUCKETS) throw new RangeError(`group buckets must be 1..${MAX_GROUP_BUCKETS}, got ${buckets}`)
  const tags: string[] = []
  for (let b = 0; b < buckets; b++) {
    const low = Math.floor(b * SLOTS / buckets)
    const high = Math.floor((b + 1) * SLOTS / buckets)
    for (let salt = 0; ; salt++) {
      const tag = `gb:${b}:${salt}`
      const slot = calculateSlot(tag)
      if (slot >= low && slot < high) {
        tags.push(tag)
        break
      }
    }
  }
  return tags
}

/** The bucket of a group: a stable hash (FNV-1a over its UTF-8 bytes) modulo B. */
export function bucketOf (group: string, buckets: number): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(group, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % buckets
}
