// The links a command hands out: the plugout URI (app link) and the message location (QR code).
import { isUuid } from './uuid.js'

let encodedFor = ''
let encodedPrefix = ''

/** `com.nexusgroup.plugout:///?url=<urlencoded publicUrl/bid>&token=<token>` (protocol.md section 4). */
export function plugoutUri (publicUrl: string, bid: string, token: string): string {
  // The public URL is the same on every call: its encoded form is kept. Ids are UUIDs, but
  // anything else is still encoded.
  if (encodedFor !== publicUrl || encodedPrefix === '') {
    encodedPrefix = `com.nexusgroup.plugout:///?url=${encodeURIComponent(`${publicUrl}/`)}`
    encodedFor = publicUrl
  }
  const id = isUuid(bid) ? bid : encodeURIComponent(bid)
  return `${encodedPrefix}${id}&token=${token}`
}

/** `publicUrl/bid/mid`: what a QR code carries; knowing it is the capability to read the message. */
export function messageLocation (publicUrl: string, bid: string, mid: string): string {
  return `${publicUrl}/${bid}/${mid}`
}
