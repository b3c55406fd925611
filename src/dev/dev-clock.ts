// The embedded store's controllable clock: system time plus an offset the dev API moves forward.
import type { Clock } from '../mailbox/clock.js'

/** A clock the dev API can move forward (ManualClock in tests, OffsetClock under `npm start`). */
export interface AdvanceableClock extends Clock {
  advance (ms: number): void
}

/** Date.now() plus everything `advance` added: time keeps running, and jumps on request. */
export class OffsetClock implements AdvanceableClock {
  private offsetMs = 0
  now (): number { return Date.now() + this.offsetMs }
  advance (ms: number): void { this.offsetMs += ms }
}

/** Whether a clock can be advanced. */
export function isAdvanceable (clock: Clock): clock is AdvanceableClock {
  return typeof (clock as Partial<AdvanceableClock>).advance === 'function'
}
