// The mailbox domain's data: command types, states, records and the events a terminal state owes.

export const COMMAND_TYPES = ['provision', 'certificate', 'authenticate', 'sign', 'ping'] as const
export type CommandType = typeof COMMAND_TYPES[number]

export const TERMINAL_STATES = ['COMPLETED', 'REJECTED', 'TIMEOUT', 'CANCELLED'] as const
export type TerminalState = typeof TERMINAL_STATES[number]
export type CommandState = 'IN_PROGRESS' | TerminalState

/** One entry of `commandHeader.to`, resolved to a box and a message in it. */
export interface Destination {
  /** As given: `@tmp` or a box name within the group. */
  to: string
  bid: string
  mid: string
  /** The box token (a capability: whoever has it may list the box). */
  token: string
}

/** What a route hands to the store to accept a command. Times in ms since the epoch / ms durations. */
export interface AcceptRequest {
  type: CommandType
  group: string
  clientId: string
  externalId?: string
  /** Seconds, as the server system gave them (echoed to devices). */
  timeoutSeconds: number
  lifespanSeconds: number
  to: string[]
  /** JSON text of the body without `commandHeader` (an object, possibly `{}`): handed to devices untouched. */
  payload: string
  /** Optional Idempotency-Key: the same key from the same client within the lifespan returns the first command. */
  idempotencyKey?: string
  /** Fingerprint of the request body, to refuse an idempotency key reused for another body. */
  fingerprint?: string
}

/** A command as the store keeps it and the status query reports it. */
export interface CommandRecord {
  commandId: string
  type: CommandType
  group: string
  clientId: string
  externalId?: string
  state: CommandState
  timeoutSeconds: number
  lifespanSeconds: number
  createdAt: number
  timeoutAt: number
  expiresAt: number
  finishedAt?: number
  destinations: Destination[]
  /** Index into destinations of the one that answered (COMPLETED / REJECTED). */
  answeredBy?: number
  /** JSON text of the device's `response` (COMPLETED / REJECTED). */
  response?: string
}

/** Result of accept: the command, and whether it was replayed from an earlier identical request. */
export interface AcceptResult {
  command: CommandRecord
  replayed: boolean
}

/** A pending message as a device's box listing shows it. */
export interface BoxMessage {
  mid: string
  type: CommandType
  createdAt: number
  timeoutAt: number
}

/** A message as the device reads it. */
export interface MessageView {
  bid: string
  mid: string
  type: CommandType
  timeoutSeconds: number
  lifespanSeconds: number
  externalId?: string
  createdAt: number
  timeoutAt: number
  payload: string
  /** The command's id and client (for the content provider); set by both drivers. */
  commandId?: string
  clientId?: string
}

export type ReadResult =
  | { kind: 'ok', message: MessageView }
  | { kind: 'not-found' }
  /** The command timed out (410). */
  | { kind: 'timed-out' }
  /** The command was decided by an answer or a cancel (409). */
  | { kind: 'decided', state: CommandState }

export type AnswerResult =
  | { kind: 'ok', state: 'COMPLETED' | 'REJECTED' }
  | { kind: 'not-found' }
  | { kind: 'timed-out' }
  | { kind: 'decided', state: CommandState }

export type CancelResult =
  | { kind: 'ok', command: CommandRecord }
  | { kind: 'not-found' }
  | { kind: 'decided', command: CommandRecord }

/**
 * The record that a callback is owed: written in the same atomic step as the terminal state.
 * It carries its own copy of everything the callback reports (it outlives the command) and
 * never a credential: URL, auth and secret are read from the current config at send time.
 */
export interface CallbackEvent {
  /** Stable per command and terminal state: the `webhook-id`, and the queue's job id. */
  id: string
  clientId: string
  group: string
  commandId: string
  type: CommandType
  state: TerminalState
  externalId?: string
  destination?: { to: string, bid: string, mid: string }
  /** JSON text of the device's response, when there is one. */
  response?: string
  createdAt: number
  finishedAt: number
}

/** The id of the callback event a command's terminal state owes. */
export function callbackEventId (commandId: string, state: TerminalState, createdAt: number): string {
  return `cmd_${commandId}_${state.toLowerCase()}_${createdAt.toString(36)}`
}
