// The shapes the virtual device reads and writes: a message as the device API hands it out, and the answer it posts.

/** A message as `GET P/ms/{bid}/{mid}` returns it (only the fields the device needs). */
export interface DeviceMessage {
  /** `PROVISION`, `CERTIFICATE`, `SIGN`, `AUTHENTICATE`, `PING` (any case). */
  commandType: string
  /** The payload as the server system posted it: `{ provCommand: {...} }`, `{ signCommand: {...} }`, ... */
  command?: Record<string, unknown>
}

/** What the device posts to `POST P/ms/{bid}/{mid}`. */
export interface DeviceAnswer {
  status: 'OK' | 'REJECTED'
  response: unknown
}

/** A REJECTED answer with a reason, the shape every refusal of the device has. */
export function rejected (reason: string): DeviceAnswer {
  return { status: 'REJECTED', response: { reason } }
}

/**
 * The `<x>Command` object of a payload (`provCommand`, `signCommand`, `authCommand`, `certCommand`, ...): the first
 * member whose name ends in `Command`, else the payload itself.
 */
export function commandObject (command: Record<string, unknown> | undefined): Record<string, unknown> {
  if (command === undefined || command === null) return {}
  for (const [name, value] of Object.entries(command)) {
    if (/command$/i.test(name) && typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  }
  return command
}
