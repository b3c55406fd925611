// The one builder of every Redis key and channel name the Redis mailbox store uses.
import { checkedKeyPrefix } from '../redis/key-prefix.js'

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
 * Builds every key from a configurable prefix. A group's keys share the hash tag `{g:<group>}`, so
 * each script touches one slot (Redis Cluster stays possible); the global keys (id sequence, group
 * registry, box index) are only ever used in calls of their own.
 */
export class RedisKeys {
  /** @param prefix the configured key prefix; must not contain `{` or `}` (they would move the hash tag). */
  constructor (readonly prefix: string) { checkedKeyPrefix(prefix) }

  /**
   * `{prefix}:{g:<group>}:` — the base every key of the group starts with (the group URI-encoded, so no brace or
   * colon leaks out of the tag).
   */
  groupBase (group: string): string { return `${this.prefix}:{g:${encodeURIComponent(group)}}:` }

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
  /** Global: the set of groups that have (had) commands: where the sweeper and the relay look. */
  groups (): string { return `${this.prefix}:groups` }
  /** Global: box id -> encoded BoxRef, with a TTL of the box's lifespan plus slack. */
  boxIndex (bid: string): string { return `${this.prefix}:b:${bid}` }
  /** Pub/sub channel carrying the box id of every message that lands in a named box (broadcast mode, wake-channels.ts). */
  wakeChannel (): string { return `${this.prefix}:wake` }
  /** Sharded pub/sub channel of one group's wake-ups, in the group's slot (sharded mode, wake-channels.ts). */
  groupWakeChannel (group: string): string { return `${this.groupBase(group)}wake` }
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
