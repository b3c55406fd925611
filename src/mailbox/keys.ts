// The one builder of every Redis key and channel name the Redis mailbox store uses.
import { checkedKeyPrefix } from '../redis/key-prefix.js'
import { bucketOf, bucketTags } from './group-buckets.js'

/**
 * Suffixes of the keys under a group's base (`{prefix}:{g:<group>}:`). The Lua scripts receive the
 * base as KEYS[1] and append these same suffixes for keys they only learn while running (a command
 * found in the deadline set, a named box); keep both sides in step.
 */
export const GROUP_KEY_SUFFIX = {
  /** String: 4-byte meta length, msgpack(meta), then the payload while IN_PROGRESS (scripts/includes/record.lua). */
  command: 'c:',
  /** Hash: one named box (`i` bid, `t` token, `e` expiresAt, `z` prune mark, `<mid>` -> `<id>:<idx>:<expiresAt>`). */
  namedBox: 'n:',
  /** Hash: a named box's pending messages, `<mid>` -> `<id>:<idx>:<createdAt>:<timeoutAt>:<expiresAt>:<type>` (what a listing reads). */
  namedBoxPending: 'q:',
  /** String: `<commandId>\n<fingerprint marker>` per client and Idempotency-Key. */
  idempotency: 'i:',
  /** Sorted set: IN_PROGRESS command ids scored by timeoutAt (ms). */
  deadlines: 'due',
  /** Hash: outbox event id -> CallbackEvent JSON. */
  outbox: 'ob',
  /** Sorted set: outbox event ids scored by finishedAt (ms), the outbox's order. */
  outboxOrder: 'oq'
} as const

/** Where a box id leads: the command of an `@tmp` box, or a named box of a group. Never changes. */
export type BoxRef =
  | { group: string, kind: 'tmp', commandId: string }
  | { group: string, kind: 'named', name: string }

/**
 * Builds every key from a configurable prefix. Each script touches one slot (Redis Cluster's rule): the keys of
 * a group share one hash tag, and so do the keys of the index of groups with work due it belongs to. Two layouts:
 *
 * - standalone and Sentinel (no `groupBuckets`): a group's keys under `{prefix}:{g:<group>}:`, one index for all
 *   groups, `{prefix}:dg` and `{prefix}:og` (a single server has no slots to respect);
 * - Cluster (`groupBuckets` B): a group's keys under `{prefix}:{gb:<b>:<salt>}:g:<group>:`, b one of B buckets by a
 *   stable hash of the group, and bucket b's index `{prefix}:{gb:<b>:<salt>}:dg` / `og` in the same slot.
 *
 * The scripts find the index keys from the group base alone (includes/index.lua). The global keys (id sequence,
 * group registry, box index) are only ever used in calls of their own.
 */
export class RedisKeys {
  private readonly tags: string[] | undefined

  /**
   * @param prefix the configured key prefix; must not contain `{` or `}` (they would move the hash tag)
   * @param groupBuckets on a Cluster, the number of buckets (`broker.redis.cluster.group-buckets`); fixed for the life of the data
   */
  constructor (readonly prefix: string, readonly groupBuckets?: number) {
    checkedKeyPrefix(prefix)
    this.tags = groupBuckets === undefined ? undefined : bucketTags(groupBuckets)
  }

  /**
   * The base every key of the group starts with: `{prefix}:{g:<group>}:`, or `{prefix}:{gb:<b>:<salt>}:g:<group>:`
   * in the Cluster layout (the group URI-encoded, so no brace or colon leaks out).
   */
  groupBase (group: string): string {
    const name = encodeURIComponent(group)
    if (this.tags === undefined) return `${this.prefix}:{g:${name}}:`
    return `${this.prefix}:{${this.tags[bucketOf(group, this.tags.length)]!}}:g:${name}:`
  }

  /** The buckets of the index of groups with work due: one (standalone), or B (Cluster). */
  get bucketCount (): number { return this.tags?.length ?? 1 }
  /** The bucket a group's index entries are in. */
  bucketOfGroup (group: string): number { return this.tags === undefined ? 0 : bucketOf(group, this.tags.length) }
  /** Sorted set of one bucket: group -> the earliest deadline it may have (a lower score is possible, never a higher one). */
  dueGroups (bucket: number): string { return this.indexBase(bucket) + 'dg' }
  /** Set of one bucket: the groups whose outbox may hold events (never one whose outbox does and is missing). */
  outboxGroups (bucket: number): string { return this.indexBase(bucket) + 'og' }
  /** The index keys a group's scripts write (they derive the same names from the group base: includes/index.lua). */
  groupIndexKeys (group: string): [string, string] {
    const bucket = this.bucketOfGroup(group)
    return [this.dueGroups(bucket), this.outboxGroups(bucket)]
  }

  private indexBase (bucket: number): string {
    return this.tags === undefined ? `${this.prefix}:` : `${this.prefix}:{${this.tags[bucket]!}}:`
  }

  command (group: string, commandId: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.command + commandId }

  namedBox (group: string, name: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.namedBox + name }

  /** The pending index of a named box: the terminal step of a command takes its messages out. */
  namedBoxPending (group: string, name: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.namedBoxPending + name }

  /** Per client and key; the client id is length-prefixed so no pair of (client, key) can collide. */
  idempotency (group: string, clientId: string, key: string): string {
    return `${this.groupBase(group)}${GROUP_KEY_SUFFIX.idempotency}${clientId.length}:${clientId}:${key}`
  }

  deadlines (group: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.deadlines }
  /** String, only with wait-replicas: the relay's fence write before its WAIT (redis-store.ts outboxReplicated); lives 60 s. */
  replicationFence (group: string): string { return `${this.groupBase(group)}rf` }
  outbox (group: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.outbox }
  outboxOrder (group: string): string { return this.groupBase(group) + GROUP_KEY_SUFFIX.outboxOrder }

  /** Global: the command id sequence (INCRBY hands out blocks). */
  sequence (): string { return `${this.prefix}:seq` }
  /** Global: the set of groups that have (had) commands: what a re-index walks (the sweeper and the relay read the index). */
  groups (): string { return `${this.prefix}:groups` }
  /** Global: box id -> encoded BoxRef, with a TTL of the box's lifespan plus slack. */
  boxIndex (bid: string): string { return `${this.prefix}:b:${bid}` }
  /** Pub/sub channel carrying the box id of every message that lands in a named box (broadcast mode, wake-channels.ts). */
  wakeChannel (): string { return `${this.prefix}:wake` }
  /** Sharded pub/sub channel of one group's wake-ups, in the group's slot (sharded mode, wake-channels.ts). */
  groupWakeChannel (group: string): string { return `${this.groupBase(group)}wake` }
  /** Global: the key layout the data under this prefix was written with (`layout-check.ts`). */
  layout (): string { return `${this.prefix}:layout` }
  /** Dev surface only (broker.dev.enabled): the capped list of callback attempts, in a slot of its own. */
  devDeliveryLog (): string { return `${this.prefix}:{dev}:deliveries` }
  /** Dev surface only: pub/sub channel announcing each delivery log entry. */
  devDeliveryChannel (): string { return `${this.prefix}:dev:deliveries` }
}

/** `<commandId>:<group>` for an `@tmp` box, `:<name length>:<name><group>` for a named one. */
export function encodeBoxRef (ref: BoxRef): string {
  return ref.kind === 'tmp' ? `${ref.commandId}:${ref.group}` : `:${ref.name.length}:${ref.name}${ref.group}`
}

/** The inverse of encodeBoxRef; null for anything malformed. */
export function decodeBoxRef (value: string): BoxRef | null {
  const colon = value.indexOf(':')
  if (colon > 0) return { kind: 'tmp', commandId: value.slice(0, colon), group: value.slice(colon + 1) }
  if (colon !== 0) return null
  const second = value.indexOf(':', 1)
  const length = Number(value.slice(1, second))
  if (second < 0 || !Number.isSafeInteger(length) || second + 1 + length > value.length) return null
  return { kind: 'named', name: value.slice(second + 1, second + 1 + length), group: value.slice(second + 1 + length) }
}
