// A binary min-heap of (time, id) pairs: the memory store's deadline and expiry schedules.

/** Min-heap ordered by `at`; entries are never updated in place (stale ones are skipped by the caller). */
export class DeadlineHeap {
  private readonly at: number[] = []
  private readonly ids: string[] = []

  get size (): number { return this.at.length }

  push (at: number, id: string): void {
    this.at.push(at)
    this.ids.push(id)
    let i = this.at.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.at[parent]! <= at) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** The earliest time, or undefined when empty. */
  peekAt (): number | undefined { return this.at[0] }

  /** Removes and returns the earliest id. */
  pop (): string | undefined {
    const n = this.at.length
    if (n === 0) return undefined
    const top = this.ids[0]
    this.swap(0, n - 1)
    this.at.pop()
    this.ids.pop()
    let i = 0
    const size = n - 1
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      if (l < size && this.at[l]! < this.at[smallest]!) smallest = l
      if (r < size && this.at[r]! < this.at[smallest]!) smallest = r
      if (smallest === i) break
      this.swap(i, smallest)
      i = smallest
    }
    return top
  }

  private swap (a: number, b: number): void {
    const at = this.at[a]!; this.at[a] = this.at[b]!; this.at[b] = at
    const id = this.ids[a]!; this.ids[a] = this.ids[b]!; this.ids[b] = id
  }
}
