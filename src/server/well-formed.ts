// Finds strings that are not well-formed UTF-16 (lone surrogates): Redis would store them as U+FFFD.

const MAX_KEY_SHOWN = 64
const MAX_PATH_SHOWN = 200

/** String.prototype.isWellFormed (Node 20; the ES2024 lib is not in this project's TypeScript lib). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed: () => boolean }).isWellFormed()

/**
 * The path (`.to[1]`, `.externalId`) of the first string, or object key, in `value` that holds a lone
 * surrogate; undefined when every one is well-formed. Such strings cannot round-trip through UTF-8:
 * `"\ud800"` and `"\ud801"` would both become U+FFFD, so two box names would name one box.
 */
export function illFormedStringPath (value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? undefined : path.length <= MAX_PATH_SHOWN ? path : `${path.slice(0, MAX_PATH_SHOWN)}…`
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedStringPath(value[i], `${path}[${i}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, member] of Object.entries(value)) {
    if (!isWellFormed(key)) return `${path.slice(0, MAX_PATH_SHOWN)} (a member name)`
    const found = illFormedStringPath(member, `${path}.${key.slice(0, MAX_KEY_SHOWN)}`)
    if (found !== undefined) return found
  }
  return undefined
}
