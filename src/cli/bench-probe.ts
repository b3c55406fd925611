// Before a round-trip run against a running broker (--url): one round trip, so a target whose callbacks go elsewhere
// fails at once with what to change.
import { CallbackWaiters, CallbackTimeoutError } from '../bench/callback-waiters.js'
import { HermodApi, signCommandBody, type BenchTarget } from '../bench/hermod-api.js'
import { BenchClient } from '../bench/http-client.js'

/** What a round-trip run needs from the target's config, for --help and for a failed probe. */
export function roundTripRequirement (receiverPort: number | string): string {
  return `the client behind --api-key needs callback-url: http://127.0.0.1:${receiverPort} (callback-mode append, the default), ` +
    'the bench\'s receiver. The quick-start broker\'s demo client sends its callbacks to the broker\'s own dev sink instead: ' +
    'run --scenario accept against it, or start it with --set allowed-clients[0].callback-url=http://127.0.0.1:20499 ' +
    'and give the bench --receiver-port 20499'
}

/** The probe failed: the message says why and what the target's config needs. */
export class ProbeFailedError extends Error {}

/**
 * Posts one command, reads and answers it as the device, and waits up to `timeoutMs` for its callback at
 * the receiver (`waiters`).
 * @throws ProbeFailedError when the broker refuses a step or the callback does not arrive
 */
export async function probeRoundTrip (
  target: BenchTarget, waiters: CallbackWaiters, receiverPort: number, timeoutMs: number
): Promise<void> {
  const client = new BenchClient({ origin: target.origin, connections: 1, timeoutMs: 5_000 })
  const api = new HermodApi(client, target)
  try {
    let step = 'accept'
    try {
      const accepted = await api.accept(signCommandBody(60))
      const callback = waiters.expect(accepted.commandId, timeoutMs)
      callback.catch(() => {})
      step = 'device read'
      await api.read(accepted.bid, accepted.mid)
      step = 'device answer'
      await api.answer(accepted.bid, accepted.mid)
      step = 'callback'
      await callback
    } catch (err) {
      if (err instanceof CallbackTimeoutError) {
        throw new ProbeFailedError(`a first round trip got no callback at the bench's receiver within ${timeoutMs} ms, so a round-trip run would only count callback timeouts: ${roundTripRequirement(receiverPort)}`)
      }
      throw new ProbeFailedError(`a first round trip failed at the ${step}: ${(err as Error).message}`)
    }
  } finally {
    await client.close().catch(() => {})
  }
}
