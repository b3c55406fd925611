// A dead letter as the admin API and the console show it: the event's identity, the attempts, why, when.
import type { DeadLetter } from './queue.js'

/** The JSON view of a dead letter (no payload, no callback URL: both stay in the queue). */
export function deadLetterView (letter: DeadLetter): Record<string, unknown> {
  const { event } = letter
  return {
    id: event.id,
    clientId: event.clientId,
    commandId: event.commandId,
    commandType: event.type.toUpperCase(),
    state: event.state,
    ...(event.externalId === undefined ? {} : { externalId: event.externalId }),
    attempts: letter.attempts,
    reason: letter.reason,
    failedAt: new Date(letter.failedAt).toISOString()
  }
}
