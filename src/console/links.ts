// The personal:// deep link of a box: what a web page hands the app (the virtual device's parseDeviceLink reads it back).

/** `personal://plugout?url=<urlencoded publicUrl/bid>&token=<token>`. */
export function personalLink (publicUrl: string, bid: string, token: string): string {
  return `personal://plugout?url=${encodeURIComponent(`${publicUrl}/${bid}`)}&token=${encodeURIComponent(token)}`
}
