// Request URLs as they may be logged or echoed: no box token, no message id, bounded length.

/** Longest URL text written to a log line or an error message, in characters. */
export const MAX_URL_SHOWN = 512
const REDACTED = '[redacted]'
/** Something that looks like a UUID, as box and message ids do. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i
/** Paths without any of these (most of the API) hold no box id: they are shown as they are, unscanned. */
const MAY_NAME_A_BOX = /ms|%|-/i

function decoded (segment: string): string {
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * A request path with everything after the box id cut off: in `/ms/{bid}/{mid}` the pair is the
 * capability to read and answer (protocol.md section 6), so the `mid` is never shown. The box id is
 * the segment after `ms` (compared decoded and in any case, as the router decodes `m%73`) or the first
 * segment holding a UUID; the result is at most MAX_URL_SHOWN characters.
 */
export function redactPath (path: string): string {
  if (!MAY_NAME_A_BOX.test(path)) return bounded(path)
  const segments = path.split('/')
  let afterMs = false
  for (let i = 0; i < segments.length; i++) {
    const segment = decoded(segments[i]!)
    if (segment === '') continue
    if (afterMs || (segment.length >= 36 && UUID.test(segment))) {
      if (i < segments.length - 1) return bounded(`${segments.slice(0, i + 1).join('/')}/${REDACTED}`)
      break
    }
    afterMs = segment.toLowerCase() === 'ms'
  }
  return bounded(path)
}

/** Query parameters whose values are shown; every other value (the box `token`, however spelled) is redacted. */
const SHOWN_QUERY_VALUES = new Set(['wait', 'limit', 'group'])

/** The request URL for logs: the path as redactPath shows it, query values other than SHOWN_QUERY_VALUES redacted. */
export function redactUrl (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return redactPath(url)
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    return eq === -1 || SHOWN_QUERY_VALUES.has(pair.slice(0, eq)) ? pair : `${pair.slice(0, eq + 1)}${REDACTED}`
  })
  return bounded(`${redactPath(url.slice(0, q))}?${query.join('&')}`)
}

function bounded (text: string): string {
  return text.length <= MAX_URL_SHOWN ? text : `${text.slice(0, MAX_URL_SHOWN)}…`
}

const MAY_HOLD_CAPABILITY = /\/ms\/|token=/i
const DEVICE_PATH_TAIL = /(\/ms\/+[^/\s?#"'`]*\/)[^\s?#"'`]+/gi
const TOKEN_VALUE = /(token=)[^&\s"'`]+/gi

/**
 * Free text that may quote a URL (an error message or stack, a framework warning): what follows
 * `/ms/{bid}/` and every `token=` value are redacted.
 */
export function redactText (text: string): string {
  if (!MAY_HOLD_CAPABILITY.test(text)) return text
  return text.replace(DEVICE_PATH_TAIL, `$1${REDACTED}`).replace(TOKEN_VALUE, `$1${REDACTED}`)
}
