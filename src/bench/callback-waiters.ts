// Matches callbacks arriving at the receiver to the round trips waiting for them, by command id.
import type { ReceivedCallback } from './receiver.js'

/** Thrown to a round trip whose callback did not come in time; its error kind is `callback timeout`. */
export class CallbackTimeoutError extends Error {
  override readonly name = 'CallbackTimeoutError'
  readonly code = 'callback timeout'
}

interface Waiter {
  resolve: (callback: ReceivedCallback) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** Round trips register before they answer; `deliver` (the receiver's onCallback) settles them. */
export class CallbackWaiters {
  private readonly waiting = new Map<string, Waiter>()
  /** Callbacks nobody waited for (late ones after a timeout, or from earlier runs). */
  unexpected = 0

  /** Resolves with the command's callback, or rejects with CallbackTimeoutError after `timeoutMs`. */
  async expect (commandId: string, timeoutMs: number): Promise<ReceivedCallback> {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(commandId)
        reject(new CallbackTimeoutError(`no callback for command ${commandId} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(commandId, { resolve, reject, timer })
    })
  }

  /** Stops waiting for `commandId` (its round trip failed before the answer). */
  forget (commandId: string): void {
    const waiter = this.waiting.get(commandId)
    if (waiter === undefined) return
    clearTimeout(waiter.timer)
    this.waiting.delete(commandId)
  }

  deliver (callback: ReceivedCallback): void {
    const waiter = this.waiting.get(callback.commandId)
    if (waiter === undefined) {
      this.unexpected++
      return
    }
    clearTimeout(waiter.timer)
    this.waiting.delete(callback.commandId)
    waiter.resolve(callback)
  }
}
