// The Redis store's dev listing: finds a group's command keys by SCAN and reads them with a read-only script.
import { Cluster } from 'ioredis'
import type { RedisClient } from '../redis/topology.js'
import { GROUP_KEY_SUFFIX, type RedisKeys } from './keys.js'
import { decodeRecord } from './redis-replies.js'
import { loadScript, scriptsDirectory, type ScriptName } from './redis-scripts.js'
import type { PeekedCommand, PeekOptions } from './store.js'

/** Command keys looked at per listing, at most (the dev listing is not a query engine). */
const MAX_SCANNED = 100_000
const BATCH = 200
const SCRIPT = 'peek-commands-n'
const COMMAND = 'hermodMailbox_peek_commands'

/** Redis MATCH pattern characters in `text`, escaped. */
function globEscape (text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** Lists commands for the dev API. Not used on any hot path; SCAN does not block Redis. */
export class RedisCommandPeeker {
  constructor (private readonly redis: RedisClient, private readonly keys: RedisKeys, dir: string = scriptsDirectory()) {
    // Not one of the store's SCRIPT_NAMES: defined here, by the same loader, with the same includes.
    redis.defineCommand(COMMAND, { lua: loadScript(dir, SCRIPT as ScriptName) })
  }

  async peek (options: PeekOptions, now: number): Promise<PeekedCommand[]> {
    const groups = options.group === undefined ? await this.redis.smembers(this.keys.groups()) : [options.group]
    const candidates: Array<{ group: string, id: string }> = []
    for (const group of groups) {
      const prefix = this.keys.groupBase(group) + GROUP_KEY_SUFFIX.command
      // SCAN walks one node: on a Cluster, every master (a group's keys sit on the one that serves its slot).
      for (const node of this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis]) {
        let cursor = '0'
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000)
          cursor = next
          for (const key of keys) candidates.push({ group, id: key.slice(prefix.length) })
        } while (cursor !== '0' && candidates.length < MAX_SCANNED)
      }
    }
    // Ids come from one global sequence (in blocks per instance): the larger, the newer, near enough.
    candidates.sort((a, b) => b.id.length - a.id.length || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0))
    const found: PeekedCommand[] = []
    for (let i = 0; i < candidates.length && found.length < options.limit; i += BATCH) {
      const byGroup = new Map<string, string[]>()
      for (const { group, id } of candidates.slice(i, i + BATCH)) byGroup.set(group, [...(byGroup.get(group) ?? []), id])
      const batch: PeekedCommand[] = []
      for (const [group, ids] of byGroup) {
        const commands = this.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<string[]>>
        const reply = await commands[COMMAND]!.call(this.redis, ids.length, ...ids.map((id) => this.keys.command(group, id)), now, ...ids)
        for (let j = 0; j < reply.length; j += 3) {
          const peeked: PeekedCommand = decodeRecord(group, reply[j]!, reply[j + 1]!)
          if (reply[j + 2] !== '') peeked.payload = reply[j + 2]!
          if (peeked.state === 'IN_PROGRESS' && peeked.timeoutAt <= now) peeked.state = 'TIMEOUT'
          batch.push(peeked)
        }
      }
      batch.sort((a, b) => b.createdAt - a.createdAt)
      for (const command of batch) {
        if (found.length >= options.limit) break
        if (options.match === undefined || options.match(command)) found.push(command)
      }
    }
    return found
  }
}
