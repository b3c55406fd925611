// Starts a private redis-server for a test file (free port, own temp dir), or points at REDIS_URL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/bench/free-port.js'

export { freePort }

export interface RedisServerOptions {
  /** AOF on (default false: nothing is persisted). */
  appendonly?: boolean
  /** With appendonly (default 'always'). */
  appendfsync?: 'always' | 'everysec'
  /** e.g. '2mb'; default none. The policy is always noeviction. */
  maxmemory?: string
  /** Default: a free port. */
  port?: number
  /** Further `--name value` arguments (e.g. ['--rename-command', 'CONFIG', '']). */
  extraArgs?: string[]
}

export interface RedisServer {
  url: string
  port: number
  dir: string
  /** Stops the server (SIGTERM by default) and waits for it to exit. The data dir stays for restart(). */
  stop (signal?: NodeJS.Signals): Promise<void>
  /** SIGKILL, and wait for the exit. */
  kill (): Promise<void>
  /** Starts it again on the same port and dir (AOF reloaded) and waits until it answers PING. */
  restart (): Promise<void>
  /** SIGSTOP: the server keeps its connections open but answers nothing (a hung Redis). */
  pause (): void
  /** SIGCONT after pause(). */
  resume (): void
  /** Kills it for good and removes its directory (for teardown). */
  destroy (): Promise<void>
}

/** REDIS_URL when set (a Redis the run provides; tests then use their own key prefixes on it). */
export function redisUrlForTests (): string | undefined {
  const url = process.env.REDIS_URL
  return url === undefined || url === '' ? undefined : url
}

/** Throws a clear error when redis-server is not on PATH: never a skip (with CI=true or not). */
export function requireRedisServer (): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    const where = process.env.CI === 'true' ? 'CI must provide it' : 'install it (e.g. apt-get install redis-server)'
    throw new Error(`redis-server is not installed or not on PATH: ${where}; the Redis tests never skip`)
  }
}

/**
 * Starts a private redis-server: `--save ''`, AOF per option, `maxmemory-policy noeviction`, bound to
 * 127.0.0.1 on a free port, in its own temp dir. Resolves once it answers PING.
 */
export async function startRedis (opts: RedisServerOptions = {}): Promise<RedisServer> {
  requireRedisServer()
  const dir = mkdtempSync(join(tmpdir(), 'hermod-redis-'))
  let port = opts.port ?? await freePort()
  const args = (): string[] => [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no',
    '--appendonly', opts.appendonly === true ? 'yes' : 'no', '--appendfsync', opts.appendfsync ?? 'always',
    '--maxmemory-policy', 'noeviction', ...(opts.maxmemory === undefined ? [] : ['--maxmemory', opts.maxmemory]),
    ...(opts.extraArgs ?? [])
  ]
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args(), { stdio: ['ignore', 'ignore', 'pipe'] })
    child = proc
    let stderr = ''
    proc.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<never>((_resolve, reject) => proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`))))
    exited.catch(() => {})
    await Promise.race([waitForPong(port, 10_000), exited])
  }
  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill(signal)
    await gone
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await launch()
      break
    } catch (err) {
      await exit('SIGKILL')
      if (attempt >= 2 || opts.port !== undefined) throw err
      port = await freePort() // the free port was taken in between
    }
  }
  const cleanup = (): void => { child?.kill('SIGCONT'); child?.kill('SIGKILL') }
  process.once('exit', cleanup)
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: async (signal = 'SIGTERM') => { await exit(signal) },
    kill: async () => { await exit('SIGKILL') },
    restart: async () => {
      await exit('SIGTERM')
      await launch()
    },
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
    destroy: async () => {
      await exit('SIGKILL')
      process.removeListener('exit', cleanup)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Polls until the server on 127.0.0.1:`port` answers +PONG (not -LOADING), or fails after `timeoutMs`. */
export async function waitForPong (port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await pingOnce(port)) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`)
}

async function pingOnce (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let answer = ''
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      answer += chunk.toString()
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
  })
}
