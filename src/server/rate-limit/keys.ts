// The Redis key prefixes of the rate-limit counters (one key per client, box or address and window).
import { checkedKeyPrefix } from '../../redis/key-prefix.js'

/** What a budget is counted per: a server system (client id), a box (bid) or a remote address. */
export type RateLimitSubject = 'client' | 'box' | 'address'

/**
 * `{prefix}:rl:<subject>:` — @fastify/rate-limit's RedisStore appends the counted key (a URI-encoded
 * client id, a box id, an address). Each counter is one key in a script of its own: any Cluster slot.
 */
export function rateLimitKeyPrefix (prefix: string, subject: RateLimitSubject): string {
  return `${checkedKeyPrefix(prefix)}:rl:${subject}:`
}
