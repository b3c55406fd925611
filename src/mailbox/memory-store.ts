// The embedded store: the whole mailbox in one process's memory, for development, tests and demos.
import { timingSafeEqual } from 'node:crypto'
import { DeadlineHeap } from './deadline-heap.js'
import { StoreSignals } from './store-signals.js'
import { IdempotencyConflictError, type DeviceAnswer, type MailboxStore, type PeekedCommand, type PeekOptions } from './store.js'
import {
  callbackEventId,
  type AcceptRequest, type AcceptResult, type AnswerResult, type BoxMessage, type CallbackEvent,
  type CancelResult, type CommandRecord, type ReadResult, type TerminalState
} from './types.js'
import { randomUuid } from './uuid.js'

/** What every box has. */
interface BoxBase {
  bid: string
  group: string
  token: string
  /** The box is forgotten after this (the latest lifespan of its commands). */
  expiresAt: number
}

/**
 * A `@tmp` box holds exactly one message, kept in two fields, and is dropped with its command. (Fewer
 * objects per `@tmp` command: no Set, no Map, no global message index; the store keeps every command,
 * so each object costs garbage-collector time.)
 */
interface TmpBox extends BoxBase {
  kind: 'tmp'
  mid: string
  commandId: string
}

/**
 * A named box outlives single commands: its purge is scheduled when it is created and moved on by every
 * later command that outlives it.
 */
interface NamedBox extends BoxBase {
  kind: 'named'
  /** The name within the group. */
  name: string
  /** Every message still within its command's lifespan: mid -> commandId. */
  messages: Map<string, string>
  /** The pending mids, in arrival order. */
  pending: Set<string>
}

type Box = TmpBox | NamedBox

interface IdempotencyEntry { commandId: string, fingerprint?: string, expiresAt: number }

/** The record plus what only devices read. */
/** The payload is kept while the command is pending only (as on Redis): nothing reads it once decided. */
interface StoredCommand extends CommandRecord { payload: string | undefined }

/** Nothing survives a restart; every operation is atomic because it runs to completion synchronously. */
export class MemoryMailboxStore implements MailboxStore {
  readonly name = 'memory' as const
  private sequence = 0
  private readonly commands = new Map<string, StoredCommand>()
  private readonly boxes = new Map<string, Box>()
  /** `group \0 name` -> the box of that name. */
  private readonly namedBoxes = new Map<string, NamedBox>()
  private readonly idempotency = new Map<string, IdempotencyEntry>()
  private readonly deadlines = new DeadlineHeap()
  private readonly expiries = new DeadlineHeap()
  private readonly outbox = new Map<string, CallbackEvent>()
  private readonly signals = new StoreSignals()

  async accept (req: AcceptRequest, now: number): Promise<AcceptResult> {
    const idemKey = req.idempotencyKey === undefined ? undefined : `${req.clientId}\0${req.idempotencyKey}`
    if (idemKey !== undefined) {
      const seen = this.idempotency.get(idemKey)
      if (seen !== undefined && seen.expiresAt > now) {
        const earlier = this.commands.get(seen.commandId)
        if (earlier !== undefined && earlier.expiresAt > now) {
          if (seen.fingerprint !== req.fingerprint) throw new IdempotencyConflictError('Idempotency-Key reused with a different request')
          return { command: view(this.timeOutIfDue(earlier, now)), replayed: true }
        }
      }
    }
    const commandId = String(++this.sequence)
    const expiresAt = now + req.lifespanSeconds * 1000
    const timeoutAt = now + req.timeoutSeconds * 1000
    const destinations = req.to.map((to) => {
      const mid = randomUuid()
      if (to === '@tmp') {
        const box = this.tmpBox(req.group, mid, commandId, expiresAt)
        return { to, bid: box.bid, mid, token: box.token }
      }
      const box = this.namedBox(req.group, to, expiresAt, now)
      box.messages.set(mid, commandId)
      box.pending.add(mid)
      return { to, bid: box.bid, mid, token: box.token }
    })
    const command: StoredCommand = {
      commandId,
      type: req.type,
      group: req.group,
      clientId: req.clientId,
      state: 'IN_PROGRESS',
      timeoutSeconds: req.timeoutSeconds,
      lifespanSeconds: req.lifespanSeconds,
      createdAt: now,
      timeoutAt,
      expiresAt,
      destinations,
      payload: req.payload
    }
    if (req.externalId !== undefined) command.externalId = req.externalId
    this.commands.set(commandId, command)
    this.deadlines.push(timeoutAt, commandId)
    this.expiries.push(expiresAt, commandId)
    if (idemKey !== undefined) {
      this.idempotency.set(idemKey, { commandId, fingerprint: req.fingerprint, expiresAt })
      this.expiries.push(expiresAt, `idem:${idemKey}`)
    }
    for (const d of destinations) this.signals.boxActivity(d.bid)
    return { command: view(command), replayed: false }
  }

  async getCommand (group: string, commandId: string, now: number): Promise<CommandRecord | null> {
    const command = this.live(commandId, now)
    if (command === undefined || command.group !== group) return null
    return view(this.timeOutIfDue(command, now))
  }

  async cancel (group: string, commandId: string, now: number): Promise<CancelResult> {
    const command = this.live(commandId, now)
    if (command === undefined || command.group !== group) return { kind: 'not-found' }
    this.timeOutIfDue(command, now)
    if (command.state !== 'IN_PROGRESS') return { kind: 'decided', command: view(command) }
    this.finish(command, 'CANCELLED', now)
    return { kind: 'ok', command: view(command) }
  }

  async listBox (bid: string, token: string, now: number): Promise<BoxMessage[] | null> {
    const box = this.boxes.get(bid)
    if (box === undefined || box.expiresAt <= now || !sameSecret(box.token, token)) return null
    const listing: BoxMessage[] = []
    const add = (mid: string, commandId: string | undefined): void => {
      const command = commandId === undefined ? undefined : this.live(commandId, now)
      if (command === undefined || command.state !== 'IN_PROGRESS' || command.timeoutAt <= now) return
      listing.push({ mid, type: command.type, createdAt: command.createdAt, timeoutAt: command.timeoutAt })
    }
    if (box.kind === 'tmp') add(box.mid, box.commandId)
    else for (const mid of box.pending) add(mid, box.messages.get(mid))
    return listing
  }

  async readMessage (bid: string, mid: string, now: number): Promise<ReadResult> {
    const found = this.messageCommand(bid, mid, now)
    if (found === undefined) return { kind: 'not-found' }
    const command = this.timeOutIfDue(found, now)
    if (command.state === 'TIMEOUT') return { kind: 'timed-out' }
    if (command.state !== 'IN_PROGRESS') return { kind: 'decided', state: command.state }
    const message = {
      bid,
      mid,
      type: command.type,
      timeoutSeconds: command.timeoutSeconds,
      lifespanSeconds: command.lifespanSeconds,
      createdAt: command.createdAt,
      timeoutAt: command.timeoutAt,
      payload: command.payload ?? '{}', // IN_PROGRESS: always set
      commandId: command.commandId,
      clientId: command.clientId
    }
    return { kind: 'ok', message: command.externalId === undefined ? message : { ...message, externalId: command.externalId } }
  }

  async answer (bid: string, mid: string, answer: DeviceAnswer, now: number): Promise<AnswerResult> {
    const command = this.messageCommand(bid, mid, now)
    if (command === undefined) return { kind: 'not-found' }
    this.timeOutIfDue(command, now)
    if (command.state === 'TIMEOUT') return { kind: 'timed-out' }
    if (command.state !== 'IN_PROGRESS') return { kind: 'decided', state: command.state }
    const state = answer.status === 'OK' ? 'COMPLETED' : 'REJECTED'
    command.answeredBy = command.destinations.findIndex((d) => d.mid === mid)
    command.response = answer.response
    this.finish(command, state, now)
    return { kind: 'ok', state }
  }

  async claimDue (now: number, limit: number): Promise<number> {
    let claimed = 0
    while (claimed < limit && (this.deadlines.peekAt() ?? Infinity) <= now) {
      const command = this.commands.get(this.deadlines.pop()!)
      if (command?.state === 'IN_PROGRESS') {
        this.finish(command, 'TIMEOUT', now)
        claimed++
      }
    }
    if (claimed < limit) this.purgeExpired(now) // only once every due deadline is handled
    return claimed
  }

  async readOutbox (limit: number): Promise<CallbackEvent[]> {
    const events: CallbackEvent[] = []
    for (const event of this.outbox.values()) {
      if (events.length >= limit) break
      events.push(event)
    }
    return events
  }

  async ackOutbox (ids: string[]): Promise<void> {
    for (const id of ids) this.outbox.delete(id)
  }

  onBoxActivity (listener: (bid: string) => void): () => void {
    return this.signals.onBoxActivity(listener)
  }

  onOutbox (listener: () => void): () => void {
    return this.signals.onOutbox(listener)
  }

  async peekCommands (options: PeekOptions, now: number): Promise<PeekedCommand[]> {
    const found: PeekedCommand[] = []
    const all = [...this.commands.values()]
    for (let i = all.length - 1; i >= 0 && found.length < options.limit; i--) {
      const command = all[i]!
      if (command.expiresAt <= now || (options.group !== undefined && command.group !== options.group)) continue
      const peeked: PeekedCommand = view(command)
      if (command.payload !== undefined) peeked.payload = command.payload
      if (peeked.state === 'IN_PROGRESS' && peeked.timeoutAt <= now) peeked.state = 'TIMEOUT'
      if (options.match === undefined || options.match(peeked)) found.push(peeked)
    }
    return found
  }

  /** Forgets everything (the dev API's reset); listeners stay subscribed. */
  reset (): void {
    for (const map of [this.commands, this.boxes, this.namedBoxes, this.idempotency, this.outbox]) map.clear()
    for (const heap of [this.deadlines, this.expiries]) while (heap.pop() !== undefined);
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.signals.clear()
  }

  /** Entry counts of everything the store holds (tests check that it returns to empty once all expired). */
  sizes (): Record<'commands' | 'boxes' | 'namedBoxes' | 'idempotency' | 'deadlines' | 'expiries' | 'outbox', number> {
    return {
      commands: this.commands.size,
      boxes: this.boxes.size,
      namedBoxes: this.namedBoxes.size,
      idempotency: this.idempotency.size,
      deadlines: this.deadlines.size,
      expiries: this.expiries.size,
      outbox: this.outbox.size
    }
  }

  private live (commandId: string, now: number): StoredCommand | undefined {
    const command = this.commands.get(commandId)
    return command === undefined || command.expiresAt <= now ? undefined : command
  }

  private messageCommand (bid: string, mid: string, now: number): StoredCommand | undefined {
    const box = this.boxes.get(bid)
    if (box === undefined) return undefined
    const commandId = box.kind === 'named' ? box.messages.get(mid) : box.mid === mid ? box.commandId : undefined
    return commandId === undefined ? undefined : this.live(commandId, now)
  }

  /** Reads observe the deadline themselves, so a lagging sweeper never shows a late state. */
  private timeOutIfDue (command: StoredCommand, now: number): StoredCommand {
    if (command.state === 'IN_PROGRESS' && command.timeoutAt <= now) this.finish(command, 'TIMEOUT', now)
    return command
  }

  /** The one place a command leaves IN_PROGRESS: state, withdrawn messages and the outbox event together. */
  private finish (command: StoredCommand, state: TerminalState, now: number): void {
    command.state = state
    command.finishedAt = now
    command.payload = undefined
    for (const d of command.destinations) {
      const box = this.boxes.get(d.bid)
      if (box?.kind === 'named') box.pending.delete(d.mid)
    }
    const answered = command.answeredBy === undefined ? undefined : command.destinations[command.answeredBy]
    const event: CallbackEvent = {
      id: callbackEventId(command.commandId, state, command.createdAt),
      clientId: command.clientId,
      group: command.group,
      commandId: command.commandId,
      type: command.type,
      state,
      createdAt: command.createdAt,
      finishedAt: now
    }
    if (command.externalId !== undefined) event.externalId = command.externalId
    if (answered !== undefined) event.destination = { to: answered.to, bid: answered.bid, mid: answered.mid }
    if (command.response !== undefined) event.response = command.response
    this.outbox.set(event.id, event)
    this.signals.outboxAppended()
  }

  private tmpBox (group: string, mid: string, commandId: string, expiresAt: number): TmpBox {
    const box: TmpBox = { kind: 'tmp', bid: randomUuid(), group, token: randomUuid(), expiresAt, mid, commandId }
    this.boxes.set(box.bid, box)
    return box
  }

  /** The live box of that name (its life extended to `expiresAt`), or a new one with its purge scheduled. */
  private namedBox (group: string, name: string, expiresAt: number, now: number): NamedBox {
    const key = `${group}\0${name}`
    const box = this.namedBoxes.get(key)
    if (box !== undefined && box.expiresAt > now) {
      if (box.expiresAt < expiresAt) {
        box.expiresAt = expiresAt
        this.expiries.push(expiresAt, `box:${box.bid}`)
      }
      return box
    }
    if (box !== undefined) this.dropBox(box)
    const created: NamedBox = {
      kind: 'named', bid: randomUuid(), group, token: randomUuid(), expiresAt, name, messages: new Map(), pending: new Set()
    }
    this.boxes.set(created.bid, created)
    this.namedBoxes.set(key, created)
    this.expiries.push(expiresAt, `box:${created.bid}`)
    return created
  }

  private dropBox (box: Box): void {
    this.boxes.delete(box.bid)
    if (box.kind === 'named' && this.namedBoxes.get(`${box.group}\0${box.name}`) === box) {
      this.namedBoxes.delete(`${box.group}\0${box.name}`)
    }
  }

  /** Forgets commands (and boxes) past their lifespan. A command still IN_PROGRESS is timed out first. */
  private purgeExpired (now: number): void {
    while ((this.expiries.peekAt() ?? Infinity) <= now) {
      const id = this.expiries.pop()!
      if (id.startsWith('idem:')) {
        const key = id.slice(5)
        if ((this.idempotency.get(key)?.expiresAt ?? Infinity) <= now) this.idempotency.delete(key)
        continue
      }
      if (id.startsWith('box:')) {
        const box = this.boxes.get(id.slice(4))
        if (box !== undefined && box.expiresAt <= now) this.dropBox(box)
        continue
      }
      const command = this.commands.get(id)
      if (command === undefined) continue
      this.timeOutIfDue(command, now)
      this.commands.delete(id)
      for (const d of command.destinations) {
        const box = this.boxes.get(d.bid)
        if (box === undefined) continue
        if (box.kind === 'tmp') this.dropBox(box)
        else box.messages.delete(d.mid)
      }
    }
  }
}

/**
 * A copy the caller may keep: later state changes do not show through it. Built field by field (an object rest
 * copy costs ten times more).
 */
function view (command: StoredCommand): CommandRecord {
  const copy: CommandRecord = {
    commandId: command.commandId,
    type: command.type,
    group: command.group,
    clientId: command.clientId,
    state: command.state,
    timeoutSeconds: command.timeoutSeconds,
    lifespanSeconds: command.lifespanSeconds,
    createdAt: command.createdAt,
    timeoutAt: command.timeoutAt,
    expiresAt: command.expiresAt,
    destinations: command.destinations.slice()
  }
  if (command.externalId !== undefined) copy.externalId = command.externalId
  if (command.finishedAt !== undefined) copy.finishedAt = command.finishedAt
  if (command.answeredBy !== undefined) copy.answeredBy = command.answeredBy
  if (command.response !== undefined) copy.response = command.response
  return copy
}

/** Compares two capability tokens in constant time. */
function sameSecret (expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
