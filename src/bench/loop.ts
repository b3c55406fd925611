// The load loop: runs an operation with bounded concurrency, bounded in count and in time, closed loop or at a fixed rate.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * One unit of load. `intendedAt` (performance.now() ms) is when it should have started: in a fixed-rate
 * run, latency measured from it includes any wait for a free slot (no coordinated omission).
 * It records its own latency and errors and should not reject (a rejection counts as done).
 */
export type Operation = (index: number, intendedAt: number) => Promise<void>

/** Bounds and pace of a loop. */
export interface LoopOptions {
  /** Operations in flight at once, at most. */
  concurrency: number
  /** Starts no more than this many operations. */
  maxOperations: number
  /** Starts none after this long, ms; those in flight are awaited. */
  durationMs: number
  /** Operations per second (open loop); absent: each slot starts the next as soon as one ends (closed loop). */
  rate?: number
  /** Aborts the loop early (Ctrl-C): no more operations start. */
  signal?: AbortSignal
}

/** Live counters, for a progress bar. */
export interface LoopProgress {
  started: number
  completed: number
  startedAt: number
}

/** What a loop did; `elapsedMs` runs from the start to the last completion. */
export interface LoopResult {
  started: number
  completed: number
  elapsedMs: number
  /** Operations due in a fixed-rate run that never started (time ran out while slots were busy). */
  notStarted: number
}

/** Runs `op` under `options`; resolves when every started operation has finished. */
export async function runLoop (
  op: Operation, options: LoopOptions, progress: LoopProgress = { started: 0, completed: 0, startedAt: 0 }
): Promise<LoopResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency))
  const max = Math.max(0, Math.floor(options.maxOperations))
  const start = performance.now()
  const deadline = start + Math.max(0, options.durationMs)
  progress.started = 0
  progress.completed = 0
  progress.startedAt = start
  let lastEnd = start
  const stopped = (): boolean => options.signal?.aborted === true || performance.now() >= deadline
  const finish = (): void => {
    progress.completed++
    lastEnd = performance.now()
  }
  const launch = async (intendedAt: number): Promise<void> => {
    const index = progress.started++
    try {
      await op(index, intendedAt)
    } catch {}
    finish()
  }

  if (options.rate === undefined) {
    const slot = async (): Promise<void> => {
      while (progress.started < max && !stopped()) await launch(performance.now())
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, max)) }, slot))
    return { started: progress.started, completed: progress.completed, elapsedMs: lastEnd - start, notStarted: 0 }
  }

  const interval = 1000 / Math.max(1e-6, options.rate)
  const inFlight = new Set<Promise<void>>()
  let due = 0
  while (progress.started < max && !stopped()) {
    due = Math.min(max, Math.floor((performance.now() - start) / interval) + 1)
    while (progress.started < due && inFlight.size < concurrency) {
      const intendedAt = start + progress.started * interval
      const running: Promise<void> = launch(intendedAt).finally(() => inFlight.delete(running))
      inFlight.add(running)
    }
    await sleep(1)
  }
  await Promise.all(inFlight)
  return {
    started: progress.started,
    completed: progress.completed,
    elapsedMs: lastEnd - start,
    notStarted: Math.max(0, due - progress.started)
  }
}
