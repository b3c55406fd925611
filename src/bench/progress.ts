// A one-line progress bar on stderr while a load loop runs, only when stderr is a terminal.
import { performance } from 'node:perf_hooks'
import type { LoopProgress } from './loop.js'

/** The bounds the bar measures against, and where the error count comes from. */
export interface ProgressOptions {
  label: string
  durationMs: number
  maxOperations: number
  errors: () => number
  /** Write even when stderr is not a TTY (tests). */
  stream?: NodeJS.WriteStream | { isTTY?: boolean, write: (text: string) => unknown }
}

const WIDTH = 28

/** The bar's text: the fraction done is the larger of time and count. */
export function progressLine (label: string, elapsedMs: number, completed: number, options: Pick<ProgressOptions, 'durationMs' | 'maxOperations'>, errors: number): string {
  const fraction = Math.min(1, Math.max(elapsedMs / Math.max(1, options.durationMs), completed / Math.max(1, options.maxOperations)))
  const filled = Math.round(fraction * WIDTH)
  const rate = elapsedMs > 0 ? Math.round(completed / (elapsedMs / 1000)) : 0
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ` +
    `${(elapsedMs / 1000).toFixed(1)}s ${completed.toLocaleString('en-US')} done ${rate.toLocaleString('en-US')}/s errors ${errors}`
}

/** Starts redrawing every 250 ms; the returned function stops and clears the line. No-op off a TTY. */
export function startProgress (progress: LoopProgress, options: ProgressOptions): () => void {
  const stream = options.stream ?? process.stderr
  if (stream.isTTY !== true) return () => {}
  const draw = (): void => {
    const elapsed = progress.startedAt === 0 ? 0 : performance.now() - progress.startedAt
    stream.write(`\r\x1b[2K${progressLine(options.label, elapsed, progress.completed, options, options.errors())}`)
  }
  const timer = setInterval(draw, 250)
  timer.unref()
  return () => {
    clearInterval(timer)
    stream.write('\r\x1b[2K')
  }
}
