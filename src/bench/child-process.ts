// A child process the bench owns: its output kept in a bounded tail, stopped by signal, killed with the bench.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

const TAIL_BYTES = 16 * 1024

/** A spawned process, with the last 16 KiB of its stdout and stderr for error messages. */
export interface OwnedChild {
  child: ChildProcess
  readonly pid: number
  /** The end of what it printed so far. */
  output (): string
  /** Resolves with the exit code (or signal name) once it has exited. */
  readonly exited: Promise<number | string>
  /** Sends `signal` (SIGTERM by default), waits `graceMs`, then SIGKILL. */
  stop (signal?: NodeJS.Signals, graceMs?: number): Promise<void>
}

const owned = new Set<ChildProcess>()
let exitHookInstalled = false

/** Kills every child still running when the bench itself exits (Ctrl-C, crash). */
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of owned) {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
    }
  })
}

/** Spawns `command` with stdout and stderr captured (and drained, so the child never blocks on a full pipe). */
export function spawnOwned (command: string, args: string[], options: SpawnOptions = {}): OwnedChild {
  installExitHook()
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (chunk: Buffer): void => {
    tail += chunk.toString('utf8')
    if (tail.length > TAIL_BYTES * 2) tail = tail.slice(-TAIL_BYTES)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  owned.add(child)
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      owned.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
    child.once('error', (err) => {
      owned.delete(child)
      keep(Buffer.from(`\n${err.message}\n`))
      resolve('spawn-error')
    })
  })
  return {
    child,
    get pid () { return child.pid ?? -1 },
    output: () => tail.slice(-TAIL_BYTES),
    exited,
    async stop (signal = 'SIGTERM', graceMs = 25_000) {
      if (child.exitCode !== null || child.signalCode !== null || !owned.has(child)) return
      child.kill(signal)
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs) })
      if (await Promise.race([exited, late]) === 'late') {
        child.kill('SIGKILL')
        await exited
      }
      clearTimeout(timer)
    }
  }
}
