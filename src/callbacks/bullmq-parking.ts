// BullMQ per-client deferral: jobs of a client at its limit wait in the delayed set until a slot of that client frees.
import type { Logger } from 'pino'

/** Longest a parked job waits before it comes back by itself (its wake-up was lost: a crash, a race). */
const MAX_PARK_MS = 5 * 60_000

/**
 * How long a job parks when its client already has perClientConcurrency attempts in flight in this
 * process: the time for a slot to free normally comes first (the job is then woken at once), so this is
 * only the fallback should no wake-up come: twice an attempt's longest run plus a second, capped at 5 minutes,
 * with ±25 % jitter (parked jobs do not return together). Not doubled per deferral: wake-ups stay in the
 * process that parked the job, so with several instances a wake-up is lost whenever another instance took
 * the slot, and a doubling fallback held such callbacks for minutes. A hung client's backlog costs one
 * move per job per fallback, not one per job every few seconds.
 */
export function parkDelayMs (timeoutMs: number, random: () => number): number {
  const fallback = Math.min(MAX_PARK_MS, 2 * Math.max(1, timeoutMs) + 1_000)
  return Math.max(1, Math.round(fallback * (0.75 + random() * 0.5)))
}

/** Moves a delayed job of `clientId` (whose queue shard it is in) to wait; false when it is no longer delayed (back, done or gone). */
export type PromoteJob = (jobId: string, clientId: string) => Promise<boolean>

/**
 * The jobs this process parked, per client, oldest first. `wake(client)` (a slot of that client freed)
 * promotes the oldest one still delayed, so the client's next callback is taken as soon as it may run,
 * with no polling meanwhile. Only ids are kept; each job holds its own fallback delay in Redis.
 */
export class ClientParking {
  private readonly parked = new Map<string, Set<string>>()
  private promote: PromoteJob | undefined

  constructor (private readonly logger?: Logger) {}

  /** Sets how jobs are promoted (the queue's producer connection); until then wake() only forgets. */
  usePromoter (promote: PromoteJob): void {
    this.promote = promote
  }

  /** Records that `jobId` of `clientId` was moved to the delayed set to wait for a slot. */
  park (clientId: string, jobId: string): void {
    let jobs = this.parked.get(clientId)
    if (jobs === undefined) this.parked.set(clientId, jobs = new Set())
    jobs.delete(jobId) // parked again: to the back
    jobs.add(jobId)
  }

  /** Forgets `jobId` (it is running now). */
  taken (clientId: string, jobId: string): void {
    const jobs = this.parked.get(clientId)
    if (jobs === undefined) return
    jobs.delete(jobId)
    if (jobs.size === 0) this.parked.delete(clientId)
  }

  /** How many jobs of `clientId` (or of all clients) this process holds parked. */
  count (clientId?: string): number {
    if (clientId !== undefined) return this.parked.get(clientId)?.size ?? 0
    let n = 0
    for (const jobs of this.parked.values()) n += jobs.size
    return n
  }

  /** A slot of `clientId` freed: promotes its oldest parked job that is still delayed. Never rejects. */
  async wake (clientId: string): Promise<void> {
    for (;;) {
      const jobId = this.takeOldest(clientId)
      if (jobId === undefined || this.promote === undefined) return
      try {
        if (await this.promote(jobId, clientId)) return
      } catch (err) {
        // Redis away: the job comes back after its fallback delay.
        this.logger?.warn({ eventId: jobId, err: { message: (err as Error).message } }, 'parked callback could not be woken; it returns after its delay')
        return
      }
    }
  }

  /** Removes and returns the oldest parked job of `clientId`, from the set the map holds now (parks may replace it meanwhile). */
  private takeOldest (clientId: string): string | undefined {
    const oldest = this.parked.get(clientId)?.values().next()
    if (oldest === undefined || oldest.done === true) return undefined
    this.taken(clientId, oldest.value)
    return oldest.value
  }
}
