// `hermod-broker bench`: load against a running broker or one it starts, as server system, device and callback receiver at once.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startBrokerProcess, type BrokerProcess } from '../bench/broker-process.js'
import { CallbackWaiters } from '../bench/callback-waiters.js'
import { cpuLayout, pinSelf } from '../bench/cpu-pinning.js'
import type { BenchTarget } from '../bench/hermod-api.js'
import { runLoad } from '../bench/load-run.js'
import { startReceiver, type CallbackReceiver } from '../bench/receiver.js'
import { startPrivateRedis, type PrivateRedis } from '../bench/redis-server.js'
import type { HostileOptions } from '../bench/hostile/suite.js'
import { HOSTILE_ARG_OPTIONS, HOSTILE_HELP, hostileOptions, runHostileBench } from './bench-hostile.js'
import { probeRoundTrip, ProbeFailedError, roundTripRequirement } from './bench-probe.js'

export const BENCH_HELP = `hermod-broker bench: load a broker as server systems, devices and a callback receiver at once

Usage:
  hermod-broker bench [--store memory|redis] [--redis-url URL] [--set key=value]... [--node-arg ARG]...
                      [--cpu-prof DIR]
  hermod-broker bench --url https://127.0.0.1:20400/hermod/rest --api-key KEY [--receiver-port N]
                      [--scenario roundtrip|accept|autoanswer|hostile] [--duration S] [--requests N] [--connections N]
                      [--rate N] [--warmup S] [--callback-timeout S] [--pin auto|off] [--json FILE]

Without --url, a broker process is started on a generated config (TLS with its self-signed
certificate, log level warn, one client whose callback-url is the bench's receiver); --store redis
without --redis-url also starts a private redis-server (free port, temp dir, nothing saved).
With --url (loopback only), a round-trip run needs a callback receiver the target calls: ${roundTripRequirement('<receiver-port>')}.
One round trip is tried first; without its callback the bench stops at once and says so.

  --scenario     roundtrip (default): accept, device read, answer, callback received; accept: posts only;
                 autoanswer (started broker only): the broker's auto-answer rule answers, callback received
  --duration     measured seconds (default 10); --warmup unmeasured seconds before it (default: a fifth
                 of the duration, at most 2; 0 for none); the run takes about their sum
  --requests     at most this many operations (default 1000000)
  --connections  keep-alive TLS 1.3 connections = operations in flight (default 32)
  --rate         fixed operations per second, latency measured from the intended start (default: max)
  --pin          auto (default): with a started broker on >= 2 CPUs, the load generator and Redis run
                 on CPU 0 and the broker on the others (taskset); off: wherever the OS puts them
  --node-arg     a Node option for the started broker (--node-arg=--max-semi-space-size=32)
  --cpu-prof     profile the started broker (node --cpu-prof); the .cpuprofile is written to DIR when it stops
  --json FILE    also write the result JSON to FILE (it always goes to stdout)
${HOSTILE_HELP}
A progress bar is drawn on stderr when it is a terminal.
`

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** A bad command line: the message is printed with the help hint, exit code 2. */
class BenchUsageError extends Error {}

interface BenchArgs {
  url?: string
  apiKey?: string
  receiverPort: number
  store: 'memory' | 'redis'
  redisUrl?: string
  overrides: Record<string, string>
  cpuProfDir?: string
  nodeArgs: string[]
  scenario: 'accept' | 'roundtrip' | 'autoanswer' | 'hostile'
  /** --scenario hostile: the suite's options. */
  hostile?: HostileOptions
  durationMs: number
  maxOperations: number
  connections: number
  rate?: number
  warmupMs: number
  callbackTimeoutMs: number
  json?: string
  pin: boolean
}

function positiveNumber (name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new BenchUsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`)
  return value
}

/** Parses the bench's arguments (exported for tests). @throws Error with a usage message */
export function parseBenchArgs (args: string[]): BenchArgs {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'receiver-port': { type: 'string' },
      store: { type: 'string' },
      'redis-url': { type: 'string' },
      set: { type: 'string', multiple: true },
      'cpu-prof': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      scenario: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      'callback-timeout': { type: 'string' },
      json: { type: 'string' },
      pin: { type: 'string' },
      ...HOSTILE_ARG_OPTIONS
    }
  })
  if (values.pin !== undefined && values.pin !== 'auto' && values.pin !== 'off') throw new BenchUsageError('--pin is auto or off')
  const scenario = values.scenario ?? 'roundtrip'
  if (scenario !== 'roundtrip' && scenario !== 'accept' && scenario !== 'autoanswer' && scenario !== 'hostile') {
    throw new BenchUsageError('--scenario is roundtrip, accept, autoanswer or hostile')
  }
  if (scenario === 'hostile' && values.url === undefined) throw new BenchUsageError('--scenario hostile runs against a broker: give --url and --api-key')
  if (scenario === 'autoanswer' && values.url !== undefined) throw new BenchUsageError('--scenario autoanswer starts its own broker (set auto-answer rules on a running one and use accept)')
  const store = values.store ?? 'memory'
  if (store !== 'memory' && store !== 'redis') throw new BenchUsageError('--store is memory or redis')
  if (values.url !== undefined) {
    let host: string
    try {
      host = new URL(values.url).hostname
    } catch {
      throw new BenchUsageError(`--url is not a URL: "${values.url}"`)
    }
    if (!LOOPBACK.has(host)) throw new BenchUsageError('--url must be a loopback address (127.0.0.1, ::1 or localhost): the bench never loads another machine')
    if (values['api-key'] === undefined) throw new BenchUsageError('--url needs --api-key')
    if (values.store !== undefined || values['redis-url'] !== undefined || values.set !== undefined || values['cpu-prof'] !== undefined || values['node-arg'] !== undefined) {
      throw new BenchUsageError('--store, --redis-url, --set, --node-arg and --cpu-prof apply to a broker the bench starts, not to --url')
    }
  }
  const overrides: Record<string, string> = {}
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new BenchUsageError(`--set takes key=value, got "${pair}"`)
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  const receiverPort = values['receiver-port'] === undefined ? 0 : positiveNumber('receiver-port', values['receiver-port'], 0, true)
  return {
    ...(values.url === undefined ? {} : { url: values.url.replace(/\/+$/, '') }),
    ...(values['api-key'] === undefined ? {} : { apiKey: values['api-key'] }),
    receiverPort,
    store,
    ...(values['redis-url'] === undefined ? {} : { redisUrl: values['redis-url'] }),
    overrides,
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }),
    nodeArgs: values['node-arg'] ?? [],
    scenario,
    durationMs: positiveNumber('duration', values.duration, 10) * 1000,
    maxOperations: positiveNumber('requests', values.requests, 1_000_000, true),
    connections: positiveNumber('connections', values.connections, 32, true),
    ...(values.rate === undefined ? {} : { rate: positiveNumber('rate', values.rate, 0) }),
    warmupMs: values.warmup === undefined
      ? Math.min(2000, positiveNumber('duration', values.duration, 10) * 200)
      : (values.warmup === '0' ? 0 : positiveNumber('warmup', values.warmup, 2)) * 1000,
    callbackTimeoutMs: positiveNumber('callback-timeout', values['callback-timeout'], 10) * 1000,
    ...(values.json === undefined ? {} : { json: values.json }),
    pin: values.pin !== 'off' && values.url === undefined,
    ...(scenario === 'hostile' ? { hostile: hostileFor(values) } : {})
  }
}

function hostileFor (values: Parameters<typeof hostileOptions>[0] & { url?: string, 'api-key'?: string }): HostileOptions {
  const url = new URL(values.url!)
  const target = { origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), apiKey: values['api-key']! }
  return hostileOptions(values, target, positiveNumber, (message) => new BenchUsageError(message))
}

/**
 * The `bench` subcommand: one bounded load run, its result JSON on stdout. Returns the exit code:
 * 0 when the run completed (its errors are in the JSON), 1 when it could not run, 2 for bad arguments.
 */
export async function runBench (args: string[]): Promise<number> {
  let options: BenchArgs
  try {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(BENCH_HELP)
      return 0
    }
    options = parseBenchArgs(args)
  } catch (err) {
    if (err instanceof BenchUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`hermod-broker bench: ${(err as Error).message}\n(hermod-broker bench --help for usage)\n`)
      return 2
    }
    throw err
  }

  if (options.scenario === 'hostile') return await runHostileBench(options.hostile!, options.json)

  const aborter = new AbortController()
  const onSignal = (): void => { aborter.abort() }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const waiters = new CallbackWaiters()
  let receiver: CallbackReceiver | undefined
  let redis: PrivateRedis | undefined
  let broker: BrokerProcess | undefined
  try {
    receiver = await startReceiver({ port: options.receiverPort, onCallback: (cb) => waiters.deliver(cb) })
    let target: BenchTarget
    if (options.url !== undefined) {
      const url = new URL(options.url)
      target = { origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), apiKey: options.apiKey! }
      if (options.scenario === 'roundtrip') {
        process.stderr.write(`bench: callbacks are expected at ${receiver.url}/callback/sign\n`)
        await probeRoundTrip(target, waiters, receiver.port, Math.min(options.callbackTimeoutMs, 5_000))
      }
    } else {
      const layout = options.pin ? cpuLayout() : null
      if (layout !== null && !pinSelf(layout.client)) process.stderr.write('bench: could not pin the load generator to a CPU\n')
      let redisUrl = options.redisUrl
      if (options.store === 'redis' && redisUrl === undefined) {
        redis = await startPrivateRedis(layout === null ? {} : { cpus: layout.redis })
        redisUrl = redis.url
      }
      broker = await startBrokerProcess({
        store: options.store,
        ...(redisUrl === undefined ? {} : { redisUrl }),
        callbackUrl: receiver.url,
        overrides: { 'broker.callbacks.concurrency': '256', 'broker.callbacks.per-client-concurrency': '256', ...options.overrides },
        nodeArgs: [...options.nodeArgs, ...(options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`])],
        ...(layout === null ? {} : { cpus: layout.server }),
        autoAnswer: options.scenario === 'autoanswer'
      })
      target = broker.target
    }
    const result = await runLoad({
      target,
      scenario: options.scenario,
      connections: options.connections,
      durationMs: options.durationMs,
      maxOperations: options.maxOperations,
      warmupMs: options.warmupMs,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      callbacks: waiters,
      callbackTimeoutMs: options.callbackTimeoutMs,
      pids: { broker: broker?.pid, redis: redis?.pid },
      label: options.scenario,
      ...(options.url === undefined ? { store: options.store } : {}),
      signal: aborter.signal
    })
    const text = `${JSON.stringify(result, null, 2)}\n`
    process.stdout.write(text)
    if (options.json !== undefined) writeFileSync(options.json, text)
    return 0
  } catch (err) {
    process.stderr.write(`hermod-broker bench: ${(err as Error).message}\n`)
    if (err instanceof ProbeFailedError) process.stderr.write('(hermod-broker bench --help for usage)\n')
    return 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await broker?.stop()
    await redis?.stop()
    await receiver?.close()
  }
}
