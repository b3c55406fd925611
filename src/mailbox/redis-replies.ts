// The one place where Lua reply codes become store results and Redis failures become StoreUnavailableError.
import { StoreUnavailableError } from './store.js'
import type {
  AcceptRequest, AnswerResult, BoxMessage, CallbackEvent, CancelResult, CommandRecord, CommandState, CommandType, Destination,
  ReadResult
} from './types.js'

/** The status codes the scripts return as the first element of their reply (see each script's header). */
export const REPLY = {
  OK: 1,
  REPLAYED: 2,
  /** accept's created reply: `{3, bid, token, ...}` per named destination in order; the caller knows the rest of what it stored. */
  CREATED: 3,
  NOT_FOUND: -1,
  TIMED_OUT: -2,
  DECIDED: -3,
  IDEMPOTENCY_CONFLICT: -4,
  NAMED_BOX_MOVED: -5,
  ID_TAKEN: -6,
  /** accept: the caller expected a live named box (sent no candidate) and there is none. */
  NO_LIVE_BOX: -7
} as const

/** A command record's meta as the scripts store it (short field names; see scripts/includes/record.lua). */
interface Meta {
  s: CommandState
  y: CommandType
  k: string
  x?: string
  o: number
  l: number
  c: number
  /** cjson writes an empty Lua table as `{}`. */
  d: Array<[string, string, string, string]> | Record<string, never>
  f?: number
  a?: number
  r?: string
}

type Reply = Array<string | number | null>

/** Decodes a command's meta JSON (what the scripts return) into the record the store hands out. */
export function decodeRecord (group: string, commandId: string, metaJson: string): CommandRecord {
  const m = JSON.parse(metaJson) as Meta
  const destinations: Destination[] = Array.isArray(m.d) ? m.d.map(([to, bid, mid, token]) => ({ to, bid, mid, token })) : []
  const record: CommandRecord = {
    commandId,
    type: m.y,
    group,
    clientId: m.k,
    state: m.s,
    timeoutSeconds: m.o,
    lifespanSeconds: m.l,
    createdAt: m.c,
    timeoutAt: m.c + m.o * 1000,
    expiresAt: m.c + m.l * 1000,
    destinations
  }
  if (m.x !== undefined) record.externalId = m.x
  if (m.f !== undefined) record.finishedAt = m.f
  if (m.a !== undefined) record.answeredBy = m.a
  if (m.r !== undefined) record.response = m.r
  return record
}

/**
 * The IN_PROGRESS record accept stored, from what it sent and the reply's box ids and tokens of its named
 * destinations (`named`: bid, token, ... in destination order; a `@tmp` destination keeps the ids it was sent).
 * Undefined when the reply does not hold one pair per named destination.
 */
function createdRecord (group: string, commandId: string, sent: AcceptSent, named: string[]): CommandRecord | undefined {
  const { req, now } = sent
  let next = 0
  const destinations: Destination[] = sent.destinations.map((d) => {
    if (d.to === '@tmp') return { to: d.to, bid: d.bid, mid: d.mid, token: d.token }
    const bid = named[next++]
    const token = named[next++]
    return { to: d.to, bid: bid ?? '', mid: d.mid, token: token ?? '' }
  })
  if (next !== named.length) return undefined
  const record: CommandRecord = {
    commandId,
    type: req.type,
    group,
    clientId: req.clientId,
    state: 'IN_PROGRESS',
    timeoutSeconds: req.timeoutSeconds,
    lifespanSeconds: req.lifespanSeconds,
    createdAt: now,
    timeoutAt: now + req.timeoutSeconds * 1000,
    expiresAt: now + req.lifespanSeconds * 1000,
    destinations
  }
  if (req.externalId !== undefined) record.externalId = req.externalId
  return record
}

/** What accept-4 answered, decoded. */
export type AcceptReply =
  | { kind: 'created', command: CommandRecord }
  | { kind: 'replayed', command: CommandRecord, emitted: boolean }
  | { kind: 'conflict' }
  | { kind: 'box-moved', index: number, bid: string }
  | { kind: 'no-live-box', index: number }
  | { kind: 'id-taken' }

/** What accept sent the script: the created record is built from it and the lean reply (REPLY.CREATED). */
export interface AcceptSent {
  req: Pick<AcceptRequest, 'type' | 'clientId' | 'externalId' | 'timeoutSeconds' | 'lifespanSeconds'>
  now: number
  destinations: ReadonlyArray<{ to: string, bid: string, mid: string, token: string }>
}

/**
 * accept-4's reply. Created is the lean `{3, bid, token, ...}`: the box id and token of each named destination,
 * the rest is what the caller sent (the script skips encoding the meta it was just given, see docs/performance.md).
 */
export function decodeAccept (raw: unknown, group: string, commandId: string, sent: AcceptSent): AcceptReply {
  const reply = raw as Reply
  switch (reply[0]) {
    case REPLY.CREATED: {
      const command = createdRecord(group, commandId, sent, reply.slice(1).map(String))
      if (command === undefined) throw unexpected('accept', reply)
      return { kind: 'created', command }
    }
    case REPLY.REPLAYED: return { kind: 'replayed', emitted: reply[1] === 1, command: decodeRecord(group, String(reply[2]), String(reply[3])) }
    case REPLY.IDEMPOTENCY_CONFLICT: return { kind: 'conflict' }
    case REPLY.NAMED_BOX_MOVED: return { kind: 'box-moved', index: Number(reply[1]), bid: String(reply[2]) }
    case REPLY.ID_TAKEN: return { kind: 'id-taken' }
    case REPLY.NO_LIVE_BOX: return { kind: 'no-live-box', index: Number(reply[1]) }
    default: throw unexpected('accept', reply)
  }
}

/** A decoded reply plus whether the script appended an outbox event (so local relays can be woken). */
export interface Decoded<T> { result: T, emitted: boolean }

/** get-command-2's reply: the record, or null when not found. */
export function decodeGetCommand (raw: unknown, group: string, commandId: string): Decoded<CommandRecord | null> {
  const reply = raw as Reply
  if (reply[0] === REPLY.NOT_FOUND) return { result: null, emitted: false }
  if (reply[0] === REPLY.OK) return { result: decodeRecord(group, commandId, String(reply[2])), emitted: reply[1] === 1 }
  throw unexpected('get-command', reply)
}

/** cancel-2's reply. */
export function decodeCancel (raw: unknown, group: string, commandId: string): Decoded<CancelResult> {
  const reply = raw as Reply
  const emitted = reply[1] === 1
  switch (reply[0]) {
    case REPLY.NOT_FOUND: return { result: { kind: 'not-found' }, emitted: false }
    case REPLY.OK: return { result: { kind: 'ok', command: decodeRecord(group, commandId, String(reply[2])) }, emitted }
    case REPLY.DECIDED: return { result: { kind: 'decided', command: decodeRecord(group, commandId, String(reply[2])) }, emitted }
    default: throw unexpected('cancel', reply)
  }
}

/** list-box-3's reply: the pending messages, or null for an unknown box or a wrong token. */
export function decodeList (raw: unknown): BoxMessage[] | null {
  const reply = raw as Reply
  if (reply[0] === REPLY.NOT_FOUND) return null
  if (reply[0] !== REPLY.OK) throw unexpected('list-box', reply)
  const listing: BoxMessage[] = []
  for (let i = 1; i + 3 < reply.length; i += 4) {
    listing.push({
      mid: String(reply[i]),
      type: reply[i + 1] as CommandType,
      createdAt: Number(reply[i + 2]),
      timeoutAt: Number(reply[i + 3])
    })
  }
  return listing
}

/** read-message-2's reply, for the device's (bid, mid). */
export function decodeRead (raw: unknown, bid: string, mid: string): Decoded<ReadResult> {
  const reply = raw as Reply
  const emitted = reply[1] === 1
  switch (reply[0]) {
    case REPLY.NOT_FOUND: return { result: { kind: 'not-found' }, emitted: false }
    case REPLY.TIMED_OUT: return { result: { kind: 'timed-out' }, emitted }
    case REPLY.DECIDED: return { result: { kind: 'decided', state: reply[2] as CommandState }, emitted }
    case REPLY.OK: {
      const [, , type, timeoutSeconds, lifespanSeconds, createdAt, externalId, payload, clientId, commandId] = reply
      const message = {
        bid,
        mid,
        type: type as CommandType,
        timeoutSeconds: Number(timeoutSeconds),
        lifespanSeconds: Number(lifespanSeconds),
        createdAt: Number(createdAt),
        timeoutAt: Number(createdAt) + Number(timeoutSeconds) * 1000,
        payload: String(payload),
        ...(typeof clientId === 'string' ? { clientId, commandId: String(commandId) } : {})
      }
      return { result: { kind: 'ok', message: externalId === null ? message : { ...message, externalId: String(externalId) } }, emitted }
    }
    default: throw unexpected('read-message', reply)
  }
}

/** answer-2's reply. */
export function decodeAnswer (raw: unknown): Decoded<AnswerResult> {
  const reply = raw as Reply
  const emitted = reply[1] === 1
  switch (reply[0]) {
    case REPLY.NOT_FOUND: return { result: { kind: 'not-found' }, emitted: false }
    case REPLY.TIMED_OUT: return { result: { kind: 'timed-out' }, emitted }
    case REPLY.DECIDED: return { result: { kind: 'decided', state: reply[2] as CommandState }, emitted }
    case REPLY.OK: return { result: { kind: 'ok', state: reply[2] as 'COMPLETED' | 'REJECTED' }, emitted }
    default: throw unexpected('answer', reply)
  }
}

/** claim-due-2's reply. */
export interface ClaimReply {
  timedOut: number
  /** Deadlines whose record was gone (past lifespan + purge grace): dropped, no TIMEOUT written. */
  withoutRecord: number
  /** The script stopped at its byte budget: run it again. */
  stoppedAtBudget: boolean
}

/** claim-due-2's reply. */
export function decodeClaim (raw: unknown): ClaimReply {
  const reply = raw as Reply
  if (reply.length !== 3) throw unexpected('claim-due', reply)
  return { timedOut: Number(reply[0]), withoutRecord: Number(reply[1]), stoppedAtBudget: reply[2] === 1 }
}

/** An outbox event with its order (finishedAt, ms). */
export interface OutboxEntry { event: CallbackEvent, at: number }

/** read-outbox-2's reply: one group's oldest events. */
export function decodeOutbox (raw: unknown): OutboxEntry[] {
  const reply = raw as Reply
  const entries: OutboxEntry[] = []
  for (let i = 0; i + 2 < reply.length; i += 3) {
    entries.push({ at: Number(reply[i + 1]), event: JSON.parse(String(reply[i + 2])) as CallbackEvent })
  }
  return entries
}

/**
 * Reply errors that mean "Redis cannot serve this now", not "the request or the script is wrong". MOVED and
 * ASK reach here only when a Cluster slot changed hands mid-pipeline (a failover): the command did not run.
 */
const UNAVAILABLE_REPLY = /^(OOM|LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|MISCONF|NOREPLICAS|MOVED|ASK)\b|\bOOM command not allowed\b/

/** ioredis's own errors of a Cluster or Sentinel client that has no node to send to right now. */
const NO_NODE = /Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|All sentinels are unreachable/

/**
 * Maps a failure of a Redis call: connection loss, timeouts, an offline client, OOM under noeviction,
 * loading, failover -> StoreUnavailableError (answered 503). Anything else is returned unchanged (a bug).
 */
export function toStoreError (err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof StoreUnavailableError) return err
  if (err.name === 'ReplyError') return UNAVAILABLE_REPLY.test(err.message) ? unavailable(err) : err
  const code = (err as NodeJS.ErrnoException).code
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError' || (typeof code === 'string' && code.startsWith('E')) ||
      /Connection is closed|Stream isn't writeable|Command timed out|connect ETIMEDOUT|Connection lost/.test(err.message) || NO_NODE.test(err.message)) {
    return unavailable(err)
  }
  return err
}

function unavailable (cause: Error): StoreUnavailableError {
  return new StoreUnavailableError(`the store is unavailable: ${cause.message.split('\n')[0]}`, { cause })
}

function unexpected (script: string, reply: unknown): Error {
  return new Error(`unexpected reply from the ${script} script: ${JSON.stringify(reply)}`)
}
