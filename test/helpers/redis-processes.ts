// Spawning and reaping the redis-server processes of a multi-node test topology (cluster, Sentinel set).
import { spawn, type ChildProcess } from 'node:child_process'
import type { ConnectionOptions } from 'node:tls'
import type { Redis } from 'ioredis'
import { onNode } from '../../src/bench/redis-cluster.js'
import { waitForPong } from './redis-server.js'

export { freePortPairs } from '../../src/bench/free-port.js'

/** One redis-server (or sentinel) process of a topology, restartable on its port with the same arguments. */
export class RedisProcess {
  private child: ChildProcess | undefined
  private stderr = ''

  /**
   * @param password set when the process requires one (readiness is then an authenticated PING)
   * @param tls set when `port` speaks TLS only (readiness is then a PING over TLS with these options)
   */
  constructor (
    readonly port: number,
    private readonly password: string | undefined,
    private readonly args: string[],
    private readonly tls?: ConnectionOptions
  ) {}

  get running (): boolean { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null }

  /** Spawns it and waits until it answers PING. */
  async start (): Promise<void> {
    const proc = spawn('redis-server', this.args, { stdio: ['ignore', 'ignore', 'pipe'] })
    this.child = proc
    this.stderr = ''
    proc.stderr?.on('data', (chunk: Buffer) => { this.stderr += chunk.toString() })
    const exited = new Promise<never>((_resolve, reject) => proc.once('exit', (code) => reject(new Error(`redis-server :${this.port} exited (${code}): ${this.stderr}`))))
    exited.catch(() => {})
    const ready = this.password === undefined && this.tls === undefined
      ? waitForPong(this.port, 10_000)
      : waitUntil(`redis-server :${this.port} answering PING`, async () => await withNode(this.port, async (r) => await r.ping() === 'PONG', this.password, this.tls), 10_000)
    await Promise.race([ready, exited])
  }

  /** Sends `signal` and waits for the exit (no-op when not running). */
  async stop (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.child
    this.child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGCONT')
    proc.kill(signal)
    await gone
  }

  /** SIGSTOP: it keeps its connections but answers nothing (and replicates nothing). */
  pause (): void { this.child?.kill('SIGSTOP') }

  /** SIGCONT after pause(). */
  resume (): void { this.child?.kill('SIGCONT') }

  /** Synchronous last resort for process exit. */
  killNow (): void { this.child?.kill('SIGKILL') }
}

/** Polls `check` every 100 ms until it returns true, or throws `what` after `timeoutMs`. */
export async function waitUntil (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      lastError = err
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : ` (last error: ${(lastError as Error).message})`}`)
}

/** Runs `fn` on a short-lived connection to 127.0.0.1:`port` (authenticated with `password`, over TLS with `tls`, when given). */
export async function withNode<T> (port: number, fn: (redis: Redis) => Promise<T>, password?: string, tls?: ConnectionOptions): Promise<T> {
  return await onNode(port, fn, {
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined ? {} : { tls })
  })
}

/** One `field:value` of an INFO reply. */
export function infoField (info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}
