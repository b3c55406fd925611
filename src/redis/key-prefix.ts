// The one check of a configured Redis key prefix, shared by the mailbox keys and the BullMQ queue.

/**
 * Throws unless `prefix` is usable: non-empty and without braces (a brace would move the hash tags
 * `{g:<group>}` and `{cb}` the keys carry, so one script's keys would no longer share a Cluster slot).
 * @returns the prefix, for use in an expression
 */
export function checkedKeyPrefix (prefix: string): string {
  if (prefix.length === 0 || /[{}]/.test(prefix)) throw new Error(`redis key prefix must be non-empty and contain no braces: ${JSON.stringify(prefix)}`)
  return prefix
}
