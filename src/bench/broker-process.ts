// Starts the broker under test as its own process (`main.js start`) on a generated config, and stops it.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnOwned, type OwnedChild } from './child-process.js'
import { pinnedCommand } from './cpu-pinning.js'
import { freePort } from './free-port.js'
import type { BenchTarget } from './hermod-api.js'
import { BenchClient } from './http-client.js'
import { overTree, processCpuSeconds, processRssBytes } from './process-stats.js'

/** What the broker under test runs with. */
export interface BrokerProcessOptions {
  store: 'memory' | 'redis'
  /** Required for the Redis store. */
  redisUrl?: string
  /** Base URL of the bench's callback receiver (the client's callback-url); none: no callbacks. */
  callbackUrl?: string
  /** More `--set key=value` overrides (applied after the bench's own). */
  overrides?: Record<string, string>
  /** Node options for the broker (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`). */
  nodeArgs?: string[]
  /** Longest wait for readiness, ms (default 30 s). */
  startTimeoutMs?: number
  /** CPUs to run it on (taskset list, see cpu-pinning.ts); default: wherever the OS puts it. */
  cpus?: string
  /** The broker answers the bench client's commands itself (broker.dev.auto-answer, canned answers). */
  autoAnswer?: boolean
  /** `false`: plain HTTP (default: TLS with the generated self-signed certificate). */
  tls?: boolean
}

/** A running broker process. */
export interface BrokerProcess {
  target: BenchTarget
  pid: number
  /** The overrides it was started with (for the result JSON). */
  overrides: Record<string, string>
  rssBytes (): number | null
  cpuSeconds (): number | null
  /** The last 16 KiB of what it printed (its log). */
  output (): string
  /** SIGTERM (graceful: a CPU profile is written), then SIGKILL after 25 s; removes the temp config. */
  stop (): Promise<void>
}

/** The broker exited or never became ready; `output` is the end of what it printed. */
export class BrokerStartError extends Error {
  constructor (message: string, readonly output: string) {
    super(message)
    this.name = 'BrokerStartError'
  }
}

const CONTEXT_PATH = '/hermod'
const URI_BASE = '/rest'
const CLIENT_ID = 'bench'

/** The CLI entry next to this file: dist/src/cli/main.js, or src/cli/main.ts under tsx (tests). */
function brokerEntry (): { script: string, loader: string[] } {
  const fromTs = import.meta.url.endsWith('.ts')
  const script = fileURLToPath(new URL(fromTs ? '../cli/main.ts' : '../cli/main.js', import.meta.url))
  return { script, loader: fromTs ? ['--import', 'tsx'] : [] }
}

/** The generated config file: JSON, which is YAML. One client, `bench`, whose callbacks go to the receiver. */
function configText (port: number, key: string, callbackUrl: string | undefined, autoAnswer = false, tls = true): string {
  const scheme = tls ? 'https' : 'http'
  return JSON.stringify({
    ...(autoAnswer ? { broker: { dev: { enabled: true, console: false, 'auto-answer': { enabled: true, rules: [{ client: CLIENT_ID, answer: 'canned' }] } } } } : {}),
    server: { port, address: '127.0.0.1', servlet: { 'context-path': CONTEXT_PATH }, ssl: { enabled: tls } },
    'uri-base': URI_BASE,
    'public-url': `${scheme}://127.0.0.1:${port}${CONTEXT_PATH}${URI_BASE}/ms`,
    'allowed-clients': [{ 'client-id': CLIENT_ID, key, group: CLIENT_ID, ...(callbackUrl === undefined ? {} : { 'callback-url': callbackUrl }) }]
  }, null, 2)
}

/**
 * Starts `node main.js start --config <generated> --set broker.store=... --set broker.log.level=warn ...`
 * on a free loopback port with TLS (the broker's generated self-signed certificate), and resolves once
 * its readiness probe answers 200.
 * @throws BrokerStartError when it exits or is not ready within startTimeoutMs
 */
export async function startBrokerProcess (options: BrokerProcessOptions): Promise<BrokerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-'))
  const key = randomBytes(32).toString('hex')
  const overrides: Record<string, string> = {
    'broker.store': options.store,
    ...(options.redisUrl === undefined ? {} : { 'broker.redis.url': options.redisUrl }),
    'broker.log.level': 'warn',
    'broker.log.pretty': 'false',
    ...options.overrides
  }
  let lastError: BrokerStartError | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const configFile = join(dir, 'application.yml')
    writeFileSync(configFile, configText(port, key, options.callbackUrl, options.autoAnswer, options.tls ?? true), { mode: 0o600 })
    const { script, loader } = brokerEntry()
    const args = [...loader, ...(options.nodeArgs ?? []), script, 'start', '--config', configFile,
      ...Object.entries(overrides).flatMap(([k, v]) => ['--set', `${k}=${v}`])]
    const run = pinnedCommand(options.cpus, process.execPath, args)
    const child = spawnOwned(run.command, run.args, { cwd: fileURLToPath(new URL(loader.length > 0 ? '../..' : '../../..', import.meta.url)) })
    const target: BenchTarget = {
      origin: `${options.tls === false ? 'http' : 'https'}://127.0.0.1:${port}`,
      prefix: `${CONTEXT_PATH}${URI_BASE}`,
      apiKey: Buffer.from(`${CLIENT_ID}:${key}`).toString('base64')
    }
    try {
      await waitReady(child, target.origin, options.startTimeoutMs ?? 30_000)
    } catch (err) {
      await child.stop('SIGKILL')
      lastError = err as BrokerStartError
      if (/EADDRINUSE/.test(lastError.output)) continue
      rmSync(dir, { recursive: true, force: true })
      throw lastError
    }
    return {
      target,
      pid: child.pid,
      overrides,
      // The front process (server.front-process) and its broker process together.
      rssBytes: () => overTree(child.pid, processRssBytes),
      output: () => child.output(),
      cpuSeconds: () => overTree(child.pid, processCpuSeconds),
      async stop () {
        await child.stop('SIGTERM')
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  rmSync(dir, { recursive: true, force: true })
  throw lastError ?? new BrokerStartError('the broker did not start', '')
}

/** Polls the readiness probe until 200; fails as soon as the process exits. */
async function waitReady (child: OwnedChild, origin: string, timeoutMs: number): Promise<void> {
  const client = new BenchClient({ origin, connections: 1, timeoutMs: 2_000 })
  let exit: number | string | undefined
  void child.exited.then((code) => { exit = code })
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  try {
    while (Date.now() < deadline) {
      if (exit !== undefined) throw new BrokerStartError(`the broker exited (${exit}) during start-up: ${lastLine(child.output())}`, child.output())
      try {
        const res = await client.send('GET', `${CONTEXT_PATH}/actuator/health/readiness`, {})
        if (res.status === 200) return
        last = `readiness ${res.status}: ${res.body.slice(0, 200)}`
      } catch (err) {
        last = (err as Error).message
      }
      await sleep(100)
    }
    throw new BrokerStartError(`the broker was not ready within ${timeoutMs} ms (${last})`, child.output())
  } finally {
    await client.close().catch(() => {})
  }
}

/** The most telling part of a failed start: the CLI's `hermod-broker: ...` message with its `- problem` lines, else the last line. */
function lastLine (output: string): string {
  const lines = output.trim().split('\n')
  const at = lines.findIndex((l) => l.startsWith('hermod-broker:'))
  if (at < 0) return (lines[lines.length - 1] ?? '').slice(0, 500)
  const problems = lines.slice(at + 1).filter((l) => /^\s+- /.test(l)).map((l) => l.trim())
  return [lines[at]!, ...problems].join(' ').slice(0, 500)
}
