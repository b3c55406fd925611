// Sample images for the dev content provider: small PNGs drawn from the content id (same id, same picture).
import { createHash } from 'node:crypto'
import { deflateSync } from 'node:zlib'
import type { ContentItem } from '../content/content-items.js'

const WIDTH = 96
const HEIGHT = 64

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32 (bytes: Buffer): number {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk (type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A WIDTH x HEIGHT RGB PNG (PNG spec: signature, IHDR, one IDAT, IEND): stripes in colours from `seed`. */
export function samplePng (seed: string): Buffer {
  const digest = createHash('sha256').update(seed).digest()
  const header = Buffer.alloc(13)
  header.writeUInt32BE(WIDTH, 0)
  header.writeUInt32BE(HEIGHT, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // colour type: RGB
  const rows = Buffer.alloc(HEIGHT * (1 + WIDTH * 3))
  for (let y = 0; y < HEIGHT; y++) {
    const row = y * (1 + WIDTH * 3)
    rows[row] = 0 // filter: none
    for (let x = 0; x < WIDTH; x++) {
      const band = (Math.floor(x / 12) + Math.floor(y / 16)) % 8
      for (let c = 0; c < 3; c++) rows[row + 1 + x * 3 + c] = digest[band * 3 + c]!
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** What the dev content provider answers for `contentId`: front and back for `PROV:` ids (card layouts), one image otherwise. */
export function sampleContent (contentId: string): ContentItem[] {
  const image = (key: string): ContentItem => ({ content_encoding: 'base64', content_type: 'image/png', key, data: samplePng(`${contentId}#${key}`).toString('base64') })
  return contentId.startsWith('PROV:') ? [image('front'), image('back')] : [image('image')]
}
