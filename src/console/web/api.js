// @ts-check
// The console's HTTP client: the dev API and the public device API of the broker that served the page, nothing else.

/** `{context-path}` from the page's own URL (`/hermod/console/` → `/hermod`). */
export const contextPath = location.pathname.replace(/\/console(\/.*)?$/, '')
export const devApi = `${contextPath}/dev/api`

/** An HTTP error with the broker's HERMOD_* code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * A JSON (or text) request; throws ApiError for a non-2xx answer.
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function call (method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  let json
  try { json = JSON.parse(text) } catch { json = text }
  if (!res.ok) throw new ApiError(res.status, json?.code ?? 'HTTP', json?.message ?? `HTTP ${res.status}`)
  return json
}

/**
 * A dev API call.
 * @param {string} path after dev/api
 * @param {string} [method]
 * @param {unknown} [body]
 */
export const dev = async (path, method = 'GET', body = undefined) => await call(method, `${devApi}${path}`, body)
