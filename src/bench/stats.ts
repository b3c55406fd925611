// Latency samples and their summary: nearest-rank percentiles, medians, per-second rates.

/** A latency distribution in milliseconds, as the bench reports it. */
export interface LatencySummary {
  count: number
  mean: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest sample such that at least
 * `p` percent of the samples are <= it. NaN for no samples.
 * @throws RangeError when p is not within 0..100
 */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

/** The median of `values` (the mean of the two middle values for an even count); NaN for none. */
export function median (values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return Number.NaN
  const mid = finite.length >> 1
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

/** Rounds to `digits` decimals (for JSON and tables); non-finite values become null. */
export function round (value: number, digits = 2): number | null {
  if (!Number.isFinite(value)) return null
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Collects latency samples (ms) into a growing Float64Array: no per-sample allocation. */
export class LatencyRecorder {
  private samples = new Float64Array(4096)
  private size = 0

  /** Adds one sample, in milliseconds. */
  record (ms: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2)
      grown.set(this.samples)
      this.samples = grown
    }
    this.samples[this.size++] = ms
  }

  get count (): number {
    return this.size
  }

  /** Forgets every sample (after a warm-up). */
  reset (): void {
    this.size = 0
  }

  /** Count, mean, min, p50, p90, p99 and max, rounded to microseconds; zeros and nulls when empty. */
  summary (): LatencySummary {
    const sorted = this.samples.slice(0, this.size).sort()
    let sum = 0
    for (let i = 0; i < sorted.length; i++) sum += sorted[i]!
    const at = (p: number): number => round(percentile(sorted, p), 3) ?? 0
    return {
      count: sorted.length,
      mean: round(sorted.length === 0 ? 0 : sum / sorted.length, 3) ?? 0,
      min: round(sorted[0] ?? 0, 3) ?? 0,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: round(sorted[sorted.length - 1] ?? 0, 3) ?? 0
    }
  }
}

/** Counts failures by a short kind (`status 503`, `ECONNRESET`, `callback timeout`, ...). */
export class ErrorCounter {
  private readonly kinds = new Map<string, number>()
  private sum = 0

  add (kind: string, n = 1): void {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + n)
    this.sum += n
  }

  get total (): number {
    return this.sum
  }

  reset (): void {
    this.kinds.clear()
    this.sum = 0
  }

  /** `{ total, byKind }` with kinds sorted by count, largest first. */
  toJSON (): { total: number, byKind: Record<string, number> } {
    const byKind = Object.fromEntries([...this.kinds].sort((a, b) => b[1] - a[1]))
    return { total: this.sum, byKind }
  }
}
