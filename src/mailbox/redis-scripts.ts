// Loads the mailbox's Lua scripts (scripts/<name>-<numKeys>.lua) and defines them on an ioredis client.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeAndWait, type ReplicaWait } from '../redis/replica-wait.js'
import type { RedisClient } from '../redis/topology.js'
import type { AcceptRequest } from './types.js'
import { uuidBytes } from './uuid.js'

/**
 * One script per atomic operation; the number after the dash is its number of fixed KEYS. Every script
 * takes further KEYS after them (the keys it learns while running, includes/declared.lua), so each is
 * called with an explicit numkeys.
 */
export const SCRIPT_NAMES = [
  'accept-4', 'get-command-2', 'cancel-2', 'list-box-3', 'read-message-2', 'answer-2', 'claim-due-2',
  'read-outbox-2', 'ack-outbox-3', 'reindex-group-4'
] as const
export type ScriptName = typeof SCRIPT_NAMES[number]

/** What a script takes besides its keys (Buffers: raw bytes, e.g. the ids of a `@tmp` destination). */
export type ScriptArg = string | number | Buffer

/**
 * The scripts' directory. Running from source (`tsx src/...`) it sits next to this module; the
 * compiled module (`dist/src/mailbox/*.js`) reads the same files back in `src/mailbox/scripts/`
 * (the package ships `src/`), so the build needs no copy step.
 * @param moduleUrl the module to resolve from (tests pass a dist-like URL)
 */
export function scriptsDirectory (moduleUrl: string = import.meta.url): string {
  const candidates = [new URL('./scripts/', moduleUrl), new URL('../../../src/mailbox/scripts/', moduleUrl)]
  for (const url of candidates) {
    const dir = fileURLToPath(url)
    if (existsSync(join(dir, `${SCRIPT_NAMES[0]}.lua`))) return dir
  }
  throw new Error(`mailbox Lua scripts not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`)
}

const INCLUDE = /^--- @include "([a-z-]+)"$/gm

/** The text of one script with its `--- @include "<name>"` lines replaced by `includes/<name>.lua`. */
export function loadScript (dir: string, name: ScriptName): string {
  const text = readFileSync(join(dir, `${name}.lua`), 'utf8')
  return text.replace(INCLUDE, (_line, include: string) => readFileSync(join(dir, 'includes', `${include}.lua`), 'utf8'))
}

type ScriptMethod = (...args: ScriptArg[]) => Promise<unknown>

/** The scripts, defined once per connection with `defineCommand` (EVALSHA, falling back to EVAL). */
export class MailboxScripts {
  /**
   * Reads every script (synchronously, once, at start) and defines it on `client`.
   * @param client the API connection
   * @param dir where the .lua files are (default: scriptsDirectory())
   * @param wait `broker.redis.wait-replicas`: the scripts of WAITED_SCRIPTS are followed by WAIT
   */
  constructor (private readonly client: RedisClient, dir: string = scriptsDirectory(), private readonly wait?: ReplicaWait) {
    for (const name of SCRIPT_NAMES) {
      client.defineCommand(commandName(name), { lua: loadScript(dir, name) })
    }
  }

  /**
   * Runs a script; the reply is decoded by the functions of redis-replies.ts. A script that needs a key it
   * was not given (`{-9, key, ...}`, nothing written) runs again with those keys added, a few times at most.
   * @param learn told the keys that had to be added, so the caller can pass them up front next time
   */
  async run (name: ScriptName, keys: string[], args: ScriptArg[], learn?: (added: string[]) => void): Promise<unknown> {
    const method = (this.client as unknown as Record<string, ScriptMethod>)[COMMAND_NAMES[name]]!
    let declared = keys
    for (let attempt = 1; ; attempt++) {
      const reply = this.wait !== undefined && WAITED_SCRIPTS.has(name)
        ? await writeAndWait(this.client, this.wait, (pipeline) => {
          const queue = (pipeline as unknown as Record<string, (...a: ScriptArg[]) => unknown>)[COMMAND_NAMES[name]]!
          queue.call(pipeline, declared.length, ...declared, ...args)
        })
        : await method.call(this.client, declared.length, ...declared, ...args)
      const missing = missingKeys(reply)
      if (missing === undefined) {
        if (attempt > 1) learn?.(declared.slice(keys.length))
        return reply
      }
      if (attempt >= MAX_KEY_ROUNDS) throw new Error(`${name}: still asked for undeclared keys after ${attempt} runs`)
      declared = [...declared, ...missing.filter((key) => !declared.includes(key))]
    }
  }
}

/**
 * The scripts whose 2xx tells a client its change is kept: accept, a device's answer, a cancel. The others
 * are redone after a failover that lost them (a deadline still due times out again; an outbox event not
 * acknowledged is queued again, with the same webhook-id), so they are not waited for.
 */
const WAITED_SCRIPTS = new Set<ScriptName>(['accept-4', 'answer-2', 'cancel-2'])

/** Runs of one call, each adding the keys the last one asked for (a named box's command, then its other boxes). */
const MAX_KEY_ROUNDS = 5

/** The keys of a `{-9, key, ...}` reply (includes/declared.lua), undefined for any other reply. */
function missingKeys (reply: unknown): string[] | undefined {
  if (!Array.isArray(reply) || reply[0] !== -9) return undefined
  return reply.slice(1).map(String)
}

const COMMAND_NAMES = Object.fromEntries(SCRIPT_NAMES.map((name) => [name, commandName(name)])) as Record<ScriptName, string>

function commandName (name: ScriptName): string {
  return `hermodMailbox_${name.replace(/-\d+$/, '').replace(/-/g, '_')}`
}

/** A destination as accept sends it: fresh ids for `@tmp`, the candidate box for a name. */
export interface SentDestination { to: string, bid: string, mid: string, token: string }

/**
 * The ARGV of accept-4 (see its header): a `@tmp` destination's bid, mid and token as 16 raw bytes each, a named one's as text.
 * @param expected per box name, the bid of its live box whose index the caller refreshed
 */
export function acceptArgs (
  req: AcceptRequest, now: number, commandId: string, sent: SentDestination[], expected: Map<string, string>,
  timing: { graceMs: number, slackMs: number, channel: string }
): ScriptArg[] {
  const args: ScriptArg[] = [
    commandId, now, req.type, req.clientId, req.externalId ?? '', req.externalId === undefined ? '0' : '1',
    req.timeoutSeconds, req.lifespanSeconds, req.payload, req.idempotencyKey === undefined ? '0' : '1',
    req.fingerprint === undefined ? '-' : `=${req.fingerprint}`, timing.graceMs, timing.slackMs, timing.channel, req.group
  ]
  for (const d of sent) {
    // A '@tmp' box's ids go as the 16 bytes the record keeps (no hex parsing in Lua); a named box's as text, which its hash keeps.
    if (d.to === '@tmp') args.push(d.to, uuidBytes(d.bid), uuidBytes(d.mid), uuidBytes(d.token), '')
    else args.push(d.to, d.bid, d.mid, d.token, expected.get(d.to) ?? '')
  }
  return args
}
