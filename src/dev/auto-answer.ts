// The seam for auto-answer rules (issue 9 item 2): what a loop over newly accepted commands asks, and what it does with the answer.
import type { CommandType } from '../mailbox/types.js'

/** One message of a newly accepted command, as the loop hands it to the rules. */
export interface AutoAnswerMessage {
  commandId: string
  type: CommandType
  group: string
  clientId: string
  externalId?: string
  /** The destination as given (`@tmp` or a box name) and its ids. */
  to: string
  bid: string
  mid: string
  /** The command as posted, without commandHeader (parsed JSON). */
  payload: unknown
  createdAt: number
}

/** What the rules decided for one message. */
export type AutoAnswerDecision =
  /** No rule names this client (no catch-all by default): a real device must answer. */
  | { kind: 'ignore' }
  /** A rule says never answer: the command times out. */
  | { kind: 'never' }
  /** Answer through the public device API after `delayMs`: the realistic answer, a canned one or a given JSON. */
  | { kind: 'answer', status: 'OK' | 'REJECTED', response: unknown, delayMs?: number }
  /** Post this text as the answer (to exercise HERMOD_INVALID_ANSWER handling). */
  | { kind: 'malformed', body: string, delayMs?: number }

/**
 * The rules engine as the broker expects it (src/device/rules.ts on the device-core branch is meant to
 * provide it). The loop that calls it is not built here; what it must do:
 * - consume accepted commands once across every instance: on Redis a claim per command (e.g.
 *   `SET {prefix}:{dev}:aa:<commandId> NX PX <lifespan>`) before deciding, so one instance rolls the
 *   probabilities and answers; on the embedded store the one process is the claimer;
 * - find new messages from `store.onBoxActivity` plus `store.peekCommands` (state IN_PROGRESS, newest
 *   first), or from a hook on accept;
 * - answer through the public device API (`POST P/ms/{bid}/{mid}`), like any device, honouring `delayMs`;
 * - log one loud line at start when rules are on.
 */
export interface AutoAnswerer {
  /** Whether any rule is set (the loop idles otherwise). */
  readonly active: boolean
  decide (message: AutoAnswerMessage): AutoAnswerDecision | Promise<AutoAnswerDecision>
}
