// For test files whose process once stayed alive after every check had passed (CI, not reproduced here): says what kept it.
import type { Test } from 'tap'

/**
 * After the file's last teardown, waits `ms`; if the process is still alive then (something left open: a connection
 * reconnecting, a timer, a pipe), writes what Node still holds to stderr and ends the process with its exit code so
 * far, instead of leaving it to tap's file timeout. The timer is unref'd: a process that ends by itself never sees it.
 */
export function exitWatchdog (t: Test, ms = 15_000): void {
  t.teardown(() => {
    setTimeout(() => {
      process.stderr.write(`exit watchdog: the test process was still alive ${ms} ms after its last teardown, holding ` +
        `${JSON.stringify(process.getActiveResourcesInfo())}; ending it\n`)
      process.exit()
    }, ms).unref()
  })
}
