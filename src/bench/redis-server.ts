// The bench's own redis-server: a free port, a temp dir, nothing persisted, never evicting; never the shared 6379.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { spawnOwned } from './child-process.js'
import { pinnedCommand } from './cpu-pinning.js'
import { freePort } from './free-port.js'

/** A private Redis the bench started; `flushAll` is safe because nothing else uses it. */
export interface PrivateRedis {
  url: string
  port: number
  pid: number
  version: string
  /** INFO memory `used_memory`, bytes. */
  usedMemory (): Promise<number>
  flushAll (): Promise<void>
  stop (): Promise<void>
}

/** The installed redis-server's version, or null when it is not on PATH. */
export function redisServerVersion (): string | null {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) return null
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? probe.stdout.trim()
}

/**
 * Starts `redis-server --port <free> --bind 127.0.0.1 --dir <temp> --save '' --appendonly no
 * --maxmemory-policy noeviction` (on `options.cpus` when given) and resolves once it answers PING.
 * @throws when redis-server is not installed or does not come up within 10 s
 */
export async function startPrivateRedis (options: { cpus?: string, extraArgs?: string[] } = {}): Promise<PrivateRedis> {
  const version = redisServerVersion()
  if (version === null) throw new Error('redis-server is not installed or not on PATH (apt-get install redis-server)')
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-redis-'))
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const run = pinnedCommand(options.cpus, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning', ...(options.extraArgs ?? [])])
    const child = spawnOwned(run.command, run.args)
    const url = `redis://127.0.0.1:${port}`
    const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false })
    admin.on('error', () => {}) // connection refused while it starts; commands report their own errors
    let up = false
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && child.child.exitCode === null;) {
      try {
        await admin.connect()
        up = (await admin.ping()) === 'PONG'
        if (up) break
      } catch {
        admin.disconnect()
      }
      await sleep(50)
    }
    if (!up) {
      admin.disconnect()
      await child.stop('SIGKILL')
      if (attempt < 2 && /Address already in use/i.test(child.output())) continue
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not start: ${child.output().trim().split('\n').pop() ?? ''}`)
    }
    return {
      url,
      port,
      pid: child.pid,
      version,
      async usedMemory () {
        const info = await admin.info('memory')
        return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN)
      },
      async flushAll () {
        await admin.flushall()
      },
      async stop () {
        admin.disconnect()
        await child.stop('SIGTERM', 5_000)
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
