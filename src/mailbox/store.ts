// The mailbox store interface: every state change is one atomic operation of the driver.
import type {
  AcceptRequest, AcceptResult, AnswerResult, BoxMessage, CallbackEvent, CancelResult,
  CommandRecord, ReadResult
} from './types.js'

/** A device's answer to a message. */
export interface DeviceAnswer {
  status: 'OK' | 'REJECTED'
  /** JSON text of the device's `response` (`null` when it sent none). */
  response: string
}

/** A command as the dev listing sees it: its state as a read would report it now, and its payload while pending. */
export interface PeekedCommand extends CommandRecord {
  /** JSON text of the command without commandHeader; absent once the command is decided (both stores drop it then). */
  payload?: string
}

/** What the dev listing asks a store for. */
export interface PeekOptions {
  /** Only this group's commands. */
  group?: string
  /** At most this many commands that `match`, newest first. */
  limit: number
  match?: (command: PeekedCommand) => boolean
}

/**
 * What every store driver (memory, redis) provides. `now` is ms since the epoch, passed in from
 * an injectable clock. All methods reject with StoreUnavailableError when the backend cannot be
 * reached; any other rejection is a bug.
 *
 * Invariants every driver keeps (the contract tests check them):
 * - accept writes the command, its messages, box entries and deadline at once, or nothing.
 * - a command leaves IN_PROGRESS exactly once; that same step withdraws its messages and
 *   appends exactly one CallbackEvent to the outbox.
 * - after `expiresAt` the command, its messages and boxes read as not found.
 * - a command of another group reads exactly like a missing one.
 */
export interface MailboxStore {
  readonly name: 'memory' | 'redis'
  accept (req: AcceptRequest, now: number): Promise<AcceptResult>
  getCommand (group: string, commandId: string, now: number): Promise<CommandRecord | null>
  cancel (group: string, commandId: string, now: number): Promise<CancelResult>
  /** Pending messages of a box, oldest first; null when the box is unknown or the token wrong. */
  listBox (bid: string, token: string, now: number): Promise<BoxMessage[] | null>
  readMessage (bid: string, mid: string, now: number): Promise<ReadResult>
  answer (bid: string, mid: string, answer: DeviceAnswer, now: number): Promise<AnswerResult>
  /** Times out up to `limit` commands whose deadline is <= now; returns how many. */
  claimDue (now: number, limit: number): Promise<number>
  /** Up to `limit` outbox events not yet acknowledged, oldest first. */
  readOutbox (limit: number): Promise<CallbackEvent[]>
  /** Removes events from the outbox once the callback queue holds them. */
  ackOutbox (ids: string[]): Promise<void>
  /**
   * Calls `listener(bid)` whenever a message lands in a box (on any instance): every box, or with a driver that has
   * watchBox, the boxes watched here. Returns an unsubscribe.
   */
  onBoxActivity (listener: (bid: string) => void): () => void
  /**
   * Drivers whose announcements need a subscription per box (the Redis store in sharded mode): resolves once
   * activity of box `bid` reaches onBoxActivity here, with the release to call when the long poll ends. Never rejects.
   */
  watchBox? (bid: string): Promise<() => void>
  /** Calls `listener()` when outbox events were appended (locally; other instances' relays poll). */
  onOutbox (listener: () => void): () => void
  /**
   * The dev listing: live commands (within their lifespan), newest first, that pass `match`. A peek:
   * it never changes state (a command past its timeout is reported TIMEOUT, but not timed out).
   */
  peekCommands (options: PeekOptions, now: number): Promise<PeekedCommand[]>
  /** Resolves when the backend answers; rejects with StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}

/** The backend of the store cannot be reached: answered as 503, never as 500. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
  constructor (message = 'the store is unavailable', options?: ErrorOptions) {
    super(message, options)
  }
}

/** An Idempotency-Key reused with a different body. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError'
}
