// The clock every time-dependent operation reads, so tests can drive time instead of sleeping.

export interface Clock {
  /** Milliseconds since the epoch. */
  now (): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor (private current = Date.UTC(2026, 0, 1)) {}
  now (): number { return this.current }
  advance (ms: number): void { this.current += ms }
  set (ms: number): void { this.current = ms }
}
