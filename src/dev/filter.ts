// The command filter syntax of the dev API and the console: `type:sign state:timeout client:prime ext:order-* age:<5m`.
import { COMMAND_TYPES, type CommandState, type CommandType } from '../mailbox/types.js'
import type { PeekedCommand } from '../mailbox/store.js'

/** A parsed filter: every given criterion must hold; a list criterion holds when any of its values does. */
export interface CommandFilter {
  types?: CommandType[]
  states?: CommandState[]
  groups?: string[]
  clients?: string[]
  /** `ext:` glob patterns (`*` any run of characters), matched against the whole externalId. */
  externalIds?: RegExp[]
  /** `box:` a box id or a box name (`to`). */
  boxes?: string[]
  /** `age:<5m` (younger than) gives maxAgeMs, `age:>1h` (older than) minAgeMs. */
  maxAgeMs?: number
  minAgeMs?: number
  /** Bare words: a command id, or an externalId glob. */
  words?: string[]
}

/** A filter text that does not parse; the message says which token and why. */
export class FilterSyntaxError extends Error {
  override name = 'FilterSyntaxError'
}

const STATES: Record<string, CommandState> = {
  in_progress: 'IN_PROGRESS',
  inprogress: 'IN_PROGRESS',
  pending: 'IN_PROGRESS',
  open: 'IN_PROGRESS',
  completed: 'COMPLETED',
  ok: 'COMPLETED',
  rejected: 'REJECTED',
  timeout: 'TIMEOUT',
  timed_out: 'TIMEOUT',
  cancelled: 'CANCELLED',
  canceled: 'CANCELLED'
}
const TYPES: Record<string, CommandType> = { ...Object.fromEntries(COMMAND_TYPES.map((t) => [t, t])), auth: 'authenticate', cert: 'certificate', prov: 'provision' }
const KEYS: Record<string, keyof CommandFilter | 'age'> = {
  type: 'types', state: 'states', group: 'groups', client: 'clients', ext: 'externalIds', externalid: 'externalIds', box: 'boxes', to: 'boxes', age: 'age'
}
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `order-*` as an anchored regular expression. */
export function globPattern (glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
}

/** `30s`, `5m`, `250ms`, `2h`, `1d` (a bare number is seconds) in ms. */
export function parseDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text)
  if (match === null) throw new FilterSyntaxError(`not a duration: "${text}" (use e.g. 30s, 5m, 2h)`)
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!)
}

/** Parses a filter text; `key:a,b` lists alternatives. @throws FilterSyntaxError */
export function parseCommandFilter (text: string): CommandFilter {
  const filter: CommandFilter = {}
  for (const token of text.trim().split(/\s+/).filter((t) => t !== '')) {
    const colon = token.indexOf(':')
    if (colon < 0) {
      (filter.words ??= []).push(token)
      continue
    }
    const name = token.slice(0, colon).toLowerCase()
    const value = token.slice(colon + 1)
    const key = KEYS[name]
    if (key === undefined) throw new FilterSyntaxError(`unknown filter key "${name}" (known: type, state, group, client, ext, box, age)`)
    if (value === '') throw new FilterSyntaxError(`"${name}:" needs a value`)
    if (key === 'age') {
      const op = value[0]
      if (op === '>') filter.minAgeMs = parseDuration(value.slice(1))
      else filter.maxAgeMs = parseDuration(op === '<' ? value.slice(1) : value)
      continue
    }
    for (const item of value.split(',').filter((v) => v !== '')) {
      switch (key) {
        case 'types': {
          const type = TYPES[item.toLowerCase()]
          if (type === undefined) throw new FilterSyntaxError(`unknown command type "${item}"`)
          ;(filter.types ??= []).push(type)
          break
        }
        case 'states': {
          const state = STATES[item.toLowerCase()]
          if (state === undefined) throw new FilterSyntaxError(`unknown state "${item}" (in_progress, completed, rejected, timeout, cancelled)`)
          ;(filter.states ??= []).push(state)
          break
        }
        case 'externalIds': (filter.externalIds ??= []).push(globPattern(item)); break
        case 'groups': (filter.groups ??= []).push(item); break
        case 'clients': (filter.clients ??= []).push(item); break
        case 'boxes': (filter.boxes ??= []).push(item); break
      }
    }
  }
  return filter
}

/** Whether a command passes the filter at `now`. */
export function matchesCommand (filter: CommandFilter, command: PeekedCommand, now: number): boolean {
  const age = now - command.createdAt
  return (filter.types === undefined || filter.types.includes(command.type)) &&
    (filter.states === undefined || filter.states.includes(command.state)) &&
    (filter.groups === undefined || filter.groups.includes(command.group)) &&
    (filter.clients === undefined || filter.clients.includes(command.clientId)) &&
    (filter.externalIds === undefined ||
      (command.externalId !== undefined && filter.externalIds.some((p) => p.test(command.externalId!)))) &&
    (filter.boxes === undefined || command.destinations.some((d) => filter.boxes!.includes(d.bid) || filter.boxes!.includes(d.to))) &&
    (filter.maxAgeMs === undefined || age < filter.maxAgeMs) &&
    (filter.minAgeMs === undefined || age > filter.minAgeMs) &&
    (filter.words === undefined || filter.words.every((w) =>
      w === command.commandId || (command.externalId !== undefined && globPattern(w).test(command.externalId))))
}
