// Runs `hermod-broker start` as a real child process for tests that kill, signal or scale brokers.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface BrokerProcess {
  /** The port it listens on (from its "hermod-broker listening" log line). */
  port: number
  /** `http://127.0.0.1:<port>` (or https when TLS is on). */
  url: string
  child: ChildProcess
  /** Everything it printed so far. */
  output (): string
  /** Sends `signal` and resolves with the exit code. */
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

export interface SpawnBrokerOptions {
  /** Arguments after `start` (e.g. ['--config', file, '--set', 'broker.store=redis']). */
  args?: string[]
  /** Extra environment (Spring form: SERVER_PORT, BROKER_STORE, ...). */
  env?: Record<string, string>
  /** How long to wait for the listening line, ms. */
  startTimeoutMs?: number
}

/** Starts a broker process and resolves once it listens; rejects with its output when it exits or times out. */
export async function spawnBroker (options: SpawnBrokerOptions = {}): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--set', 'broker.log.pretty=false', ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000)
  let line: string | undefined
  while (line === undefined) {
    line = out.split('\n').find((l) => l.includes('"msg":"hermod-broker listening"'))
    if (line !== undefined) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`broker did not start:\n${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const listening = JSON.parse(line) as { port: number, url: string, brokerPid?: number }
  /** The broker process a front forked (own process group): gone with its front, else killed, so none outlives a test. */
  const reapBrokerProcess = async (): Promise<void> => {
    const pid = listening.brokerPid
    if (pid === undefined) return
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
  return {
    port: listening.port,
    url: new URL(listening.url).origin.replace('localhost', '127.0.0.1'),
    child,
    output: () => out,
    async stop (signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
        await once(child, 'exit')
      }
      await reapBrokerProcess()
      // Its pipes: closed by now, unless something it started still holds them (they would keep this process alive).
      child.stdout?.destroy()
      child.stderr?.destroy()
      return child.exitCode
    }
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
