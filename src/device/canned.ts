// Canned and malformed answers (no crypto: for load tests, and for exercising a server system's error handling),
// and the answer a rule decision asks for.
import type { DeviceAnswer, DeviceMessage } from './answer.js'
import type { VirtualDevice } from './device.js'
import type { AutoAnswerDecision } from './rules.js'

/** A fixed, well-formed answer per command type: the right fields, placeholder values (signatures do not verify). */
const CANNED: Record<string, unknown> = {
  ping: { pong: true },
  provision: { responseformat: 'json', result: { keys: [], notes: ['canned answer: no keys were generated'] } },
  certificate: { installed: [] },
  sign: { signatures: [], signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx', keyid: 'canned' },
  authenticate: { signatures: [], signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx', keyid: 'canned' }
}

/** Accepted by the broker (status OK) but broken for a server system: a JWS that is not one, signatures not base64. */
const MALFORMED: Record<string, unknown> = {
  ping: 'pong?',
  provision: { responseformat: 'jws', jws: 'eyJhbGciOiJSUzI1NiJ9.not-a-payload' },
  certificate: { installed: 'yes' },
  sign: { signature: '%%% not base64 %%%' },
  authenticate: { signature: '%%% not base64 %%%' }
}

/** The canned answer for a command type. */
export function cannedAnswer (commandType: string): DeviceAnswer {
  return { status: 'OK', response: CANNED[commandType.toLowerCase()] ?? {} }
}

/** The malformed answer for a command type. */
export function malformedAnswer (commandType: string): DeviceAnswer {
  return { status: 'OK', response: MALFORMED[commandType.toLowerCase()] ?? 'malformed' }
}

/** The answer a rule decision asks for (null for `ignore`): realistic ones come from `device` (a device, or a function that opens one). */
export async function answerForDecision (
  decision: AutoAnswerDecision,
  message: DeviceMessage,
  device: VirtualDevice | (() => Promise<VirtualDevice>)
): Promise<DeviceAnswer | null> {
  if (decision.action === 'ignore') return null
  if (decision.action === 'malformed') return malformedAnswer(message.commandType)
  if (decision.answer === 'given') return { status: decision.status, response: decision.response ?? null }
  if (decision.action === 'reject') return { status: 'REJECTED', response: { reason: `rejected by auto-answer rule ${decision.name ?? decision.rule}` } }
  if (decision.answer === 'canned') return cannedAnswer(message.commandType)
  return await (typeof device === 'function' ? await device() : device).answer(message)
}
