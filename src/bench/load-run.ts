// One load run against a broker: server systems posting commands, and for round trips devices and the callback receiver too.
import { performance } from 'node:perf_hooks'
import { CallbackWaiters } from './callback-waiters.js'
import { HermodApi, signCommandBody, type BenchTarget } from './hermod-api.js'
import { BenchClient, errorKind } from './http-client.js'
import { runLoop, type LoopProgress, type Operation } from './loop.js'
import { CpuMeter } from './process-stats.js'
import { startProgress } from './progress.js'
import type { RunResult } from './result.js'
import { ErrorCounter, LatencyRecorder, round } from './stats.js'

/** What to run and within which bounds. */
export interface LoadRunOptions {
  target: BenchTarget
  scenario: 'accept' | 'roundtrip' | 'autoanswer'
  /** Keep-alive connections, and operations in flight at most. */
  connections: number
  /** Measured phase: starts no operation after this long, ms. */
  durationMs: number
  /** Measured phase: starts no more operations than this. */
  maxOperations: number
  /** Unmeasured phase before it (connections, JIT, caches), ms; 0 for none. */
  warmupMs?: number
  /** Operations per second (open loop); absent: as fast as possible. */
  rate?: number
  /** Round trips: the callbacks the receiver gets must be passed to `callbacks.deliver`. */
  callbacks?: CallbackWaiters
  /** Round trips: longest wait for a callback after the answer, ms (default 10 s). */
  callbackTimeoutMs?: number
  /** Timeout and lifespan of the posted commands, s (default 300: nothing times out during a run). */
  commandTimeoutSeconds?: number
  /** Process ids whose CPU use is reported (`{ broker: pid, redis: pid }`; a list is summed, e.g. a cluster's nodes). */
  pids?: Record<string, number | number[] | undefined>
  /** Label of the progress bar (stderr, TTY only). */
  label?: string
  store?: 'memory' | 'redis'
  signal?: AbortSignal
}

/**
 * Runs the scenario: `accept` posts sign commands; `roundtrip` posts one, reads it as the device,
 * answers it and waits for its COMPLETED callback at the receiver, per operation.
 * @throws Error when a round-trip run has no `callbacks`
 */
export async function runLoad (options: LoadRunOptions): Promise<RunResult> {
  if (options.scenario !== 'accept' && options.callbacks === undefined) throw new Error('a round-trip run needs the receiver\'s callbacks')
  const client = new BenchClient({ origin: options.target.origin, connections: options.connections })
  const api = new HermodApi(client, options.target)
  const acceptLatency = new LatencyRecorder()
  const tripLatency = new LatencyRecorder()
  const errors = new ErrorCounter()
  const body = signCommandBody(options.commandTimeoutSeconds ?? 300)
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 10_000
  let trips = 0

  const accept: Operation = async (_i, intendedAt) => {
    try {
      await api.acceptOnly(body)
      acceptLatency.record(performance.now() - intendedAt)
    } catch (err) {
      errors.add(errorKind(err))
    }
  }
  const roundTrip: Operation = async (_i, intendedAt) => {
    let commandId: string | undefined
    try {
      const accepted = await api.accept(body)
      acceptLatency.record(performance.now() - intendedAt)
      commandId = accepted.commandId
      const callback = options.callbacks!.expect(commandId, callbackTimeoutMs)
      callback.catch(() => {})
      try {
        await api.read(accepted.bid, accepted.mid)
        await api.answer(accepted.bid, accepted.mid)
      } catch (err) {
        options.callbacks!.forget(commandId)
        throw err
      }
      const received = await callback
      if (received.state !== 'COMPLETED') throw Object.assign(new Error('unexpected state'), { code: `callback ${received.state}` })
      tripLatency.record(performance.now() - intendedAt)
      trips++
    } catch (err) {
      errors.add(errorKind(err))
    }
  }
  // The broker's own auto-answer rules play the device: accept, then the COMPLETED callback.
  const autoAnswered: Operation = async (_i, intendedAt) => {
    try {
      const accepted = await api.accept(body)
      acceptLatency.record(performance.now() - intendedAt)
      const received = await options.callbacks!.expect(accepted.commandId, callbackTimeoutMs)
      if (received.state !== 'COMPLETED') throw Object.assign(new Error('unexpected state'), { code: `callback ${received.state}` })
      tripLatency.record(performance.now() - intendedAt)
      trips++
    } catch (err) {
      errors.add(errorKind(err))
    }
  }
  const op = options.scenario === 'accept' ? accept : options.scenario === 'roundtrip' ? roundTrip : autoAnswered
  const loopOptions = {
    concurrency: options.connections,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    ...(options.signal === undefined ? {} : { signal: options.signal })
  }

  try {
    if ((options.warmupMs ?? 0) > 0) {
      await runLoop(op, { ...loopOptions, durationMs: options.warmupMs!, maxOperations: Number.MAX_SAFE_INTEGER })
      acceptLatency.reset()
      tripLatency.reset()
      errors.reset()
      trips = 0
    }
    const progress: LoopProgress = { started: 0, completed: 0, startedAt: 0 }
    const stopProgress = startProgress(progress, {
      label: options.label ?? options.scenario,
      durationMs: options.durationMs,
      maxOperations: options.maxOperations,
      errors: () => errors.total
    })
    const cpu = new CpuMeter(options.pids)
    cpu.start()
    let loop
    try {
      loop = await runLoop(op, { ...loopOptions, durationMs: options.durationMs, maxOperations: options.maxOperations }, progress)
    } finally {
      stopProgress()
    }
    const { cores, cpuSeconds } = cpu.stop()
    const seconds = loop.elapsedMs / 1000
    const perSecond = (n: number): number => (seconds > 0 ? round(n / seconds, 1) ?? 0 : 0)
    const operations = options.scenario === 'accept' ? acceptLatency.count : trips
    const cpuPerOperation = Object.fromEntries(Object.entries(cpuSeconds).map(([name, used]) =>
      [name, used === null || operations === 0 ? null : round(used * 1e6 / operations, 1)]))
    const result: RunResult = {
      scenario: options.scenario,
      target: `${options.target.origin}${options.target.prefix}`,
      ...(options.store === undefined ? {} : { store: options.store }),
      durationS: round(seconds, 3) ?? 0,
      connections: options.connections,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      accepted: { count: acceptLatency.count, perSecond: perSecond(acceptLatency.count), latencyMs: acceptLatency.summary() },
      ...(options.scenario !== 'accept' ? { roundTrips: { count: trips, perSecond: perSecond(trips), latencyMs: tripLatency.summary() } } : {}),
      errors: errors.toJSON(),
      cpu: cores,
      cpuUsPerOperation: cpuPerOperation
    }
    if (options.rate !== undefined) result.notStarted = loop.notStarted
    return result
  } finally {
    await client.close()
  }
}
