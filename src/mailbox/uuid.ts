// The broker's ids: random (version 4) UUIDs as flat strings from node:crypto's CSPRNG, and the one test of their form.
import { randomFillSync } from 'node:crypto'

// node:crypto's randomUUID() builds its answer by concatenation: a V8 cons string, a small tree of
// objects per id. The embedded store keeps three ids per command for minutes, and every scavenge
// copies what is kept; a flat 36-character string is one object.
const IDS_PER_REFILL = 256
const random = Buffer.allocUnsafeSlow(16 * IDS_PER_REFILL)
let next = IDS_PER_REFILL
const text = Buffer.allocUnsafeSlow(36)
const HEX = Buffer.from('0123456789abcdef', 'latin1')

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Whether `text` has the form of an id the broker hands out (box id, message id, token): a UUID in
 * lower case, 8-4-4-4-12. Text of any other form names nothing the broker issued, so callers answer
 * "not found" without asking the store (the Redis scripts store ids as 16 raw bytes, and links leave
 * such text unescaped: it holds nothing to escape).
 */
export function isUuid (text: string): boolean { return UUID_TEXT.test(text) }

/** The 16 bytes of a UUID in text form (how the Redis scripts keep ids; accept sends a `@tmp` box's ids so). */
export function uuidBytes (uuid: string): Buffer { return Buffer.from(uuid.replaceAll('-', ''), 'hex') }

/** A random version 4 UUID (RFC 9562), lower case, as one flat string. */
export function randomUuid (): string {
  if (next === IDS_PER_REFILL) {
    randomFillSync(random)
    next = 0
  }
  const at = 16 * next++
  random[at + 6] = (random[at + 6]! & 0x0f) | 0x40 // version 4
  random[at + 8] = (random[at + 8]! & 0x3f) | 0x80 // variant 10
  let p = 0
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[p++] = 0x2d
    const byte = random[at + i]!
    text[p++] = HEX[byte >> 4]!
    text[p++] = HEX[byte & 15]!
  }
  random.fill(0, at, at + 16) // used entropy is not left lying around
  return text.toString('latin1', 0, 36)
}
