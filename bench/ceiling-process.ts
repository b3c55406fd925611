// Starts bench/ceiling as its own process and reads the port it listens on.
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnOwned } from '../src/bench/child-process.js'
import { pinnedCommand } from '../src/bench/cpu-pinning.js'

/** The running ceiling server. */
export interface CeilingProcess {
  origin: string
  pid: number
  /** Bytes of its answer body (the broker's accept answer size). */
  answerBytes: number
  stop (): Promise<void>
}

/** Spawns `node ceiling.js` (or ceiling.ts under tsx) with `nodeArgs`, on `cpus` if given, and waits for its `{"port":N}` line. */
export async function startCeiling (nodeArgs: string[] = [], cpus?: string): Promise<CeilingProcess> {
  const fromTs = import.meta.url.endsWith('.ts')
  const script = fileURLToPath(new URL(fromTs ? './ceiling.ts' : './ceiling.js', import.meta.url))
  const run = pinnedCommand(cpus, process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), ...nodeArgs, script])
  const child = spawnOwned(run.command, run.args)
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const line = /\{"port":(\d+),"bytes":(\d+)\}/.exec(child.output())
    if (line !== null) {
      return {
        origin: `https://127.0.0.1:${line[1]!}`,
        pid: child.pid,
        answerBytes: Number(line[2]),
        stop: async () => { await child.stop('SIGTERM', 5_000) }
      }
    }
    if (child.child.exitCode !== null) break
    await sleep(50)
  }
  await child.stop('SIGKILL')
  throw new Error(`the ceiling server did not start: ${child.output().trim().slice(-500)}`)
}
