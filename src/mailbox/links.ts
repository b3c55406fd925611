// The links a command hands out: the plugout URI (app link) and the message location (QR code).

/** `com.nexusgroup.plugout:///?url=<urlencoded publicUrl/bid>&token=<token>` (protocol.md section 4). */
export function plugoutUri (publicUrl: string, bid: string, token: string): string {
  return `com.nexusgroup.plugout:///?url=${encodeURIComponent(`${publicUrl}/${bid}`)}&token=${token}`
}

/** `publicUrl/bid/mid`: what a QR code carries; knowing it is the capability to read the message. */
export function messageLocation (publicUrl: string, bid: string, mid: string): string {
  return `${publicUrl}/${bid}/${mid}`
}
