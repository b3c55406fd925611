// What PRIME shows a user, parsed: the plugout `uri` (a box and its token), the `location` (one message), a personal:// deep link.

/** A box to list (with its token), or one message to read. */
export type DeviceLink =
  | { kind: 'box', boxUrl: string, token: string }
  | { kind: 'message', messageUrl: string }

/**
 * Parses `com.nexusgroup.plugout:///?url=<box url>&token=<token>`, an `http(s)://…/ms/<bid>/<mid>` location, or a
 * `personal://…` deep link carrying either (`?url=…&token=…`, `?location=…`, or the encoded URL as its path).
 * @throws Error naming the forms it accepts
 */
export function parseDeviceLink (text: string): DeviceLink {
  const link = text.trim()
  if (/^https?:\/\//i.test(link)) return fromHttp(link)
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]?.toLowerCase()
  if (scheme === 'com.nexusgroup.plugout' || scheme === 'personal') {
    const query = new URL(link.replace(/^[^:]+:\/*/, 'x://host/')).searchParams
    const url = query.get('url')
    const token = query.get('token')
    if (url !== null && token !== null) return { kind: 'box', boxUrl: httpUrl(url), token }
    if (url !== null) return fromHttp(httpUrl(url))
    const location = query.get('location') ?? query.get('link')
    if (location !== null) return fromHttp(httpUrl(location))
    if (scheme === 'personal') {
      const embedded = decodeURIComponent(link.replace(/^personal:\/*/i, '').replace(/^[^?]*?(https?(:|%3A))/i, '$1'))
      if (/^https?:\/\//i.test(embedded)) return fromHttp(embedded)
    }
  }
  throw new Error('not a device link: give the plugout uri (com.nexusgroup.plugout:///?url=…&token=…), the location (https://…/ms/<bid>/<mid>) or a personal:// link')
}

function httpUrl (text: string): string {
  if (!/^https?:\/\//i.test(text)) throw new Error(`the link carries ${text}, not an http(s) URL`)
  return text
}

function fromHttp (link: string): DeviceLink {
  const url = new URL(link)
  const token = url.searchParams.get('token')
  url.search = ''
  const path = url.pathname.replace(/\/+$/, '')
  url.pathname = path
  if (token !== null) return { kind: 'box', boxUrl: url.toString(), token }
  if (/\/ms\/[^/]+\/[^/]+$/.test(path)) return { kind: 'message', messageUrl: url.toString() }
  throw new Error(`${link}: a location ends in /ms/<bid>/<mid>; a box URL needs its token`)
}
