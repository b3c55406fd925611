// The JSON body parser: strict UTF-8, prototype-poisoning refused, empty bodies allowed (ping).
import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { HERMOD_INVALID_JSON } from './errors.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Deepest nesting of objects and arrays a body may have; deeper is refused before it can exhaust a stack. */
export const MAX_JSON_DEPTH = 64

/** The deepest nesting of `[` / `{` in a JSON text, outside strings; stops counting past `limit`. */
export function jsonDepth (text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 123 || c === 91) {
      if (++depth > max && (max = depth) > limit) return max
    } else if (c === 125 || c === 93) {
      depth--
    }
  }
  return max
}

/**
 * True when `body` holds at most `limit` bytes `{` and `[` in all: then no nesting can be deeper than
 * `limit`, and the exact scan (jsonDepth) is not needed. Native `indexOf` keeps this about ten times
 * cheaper than the scan for ordinary bodies (a dozen brackets); it gives up at `limit + 1`.
 */
export function fewOpeners (body: Buffer, limit = MAX_JSON_DEPTH): boolean {
  let seen = 0
  for (let i = body.indexOf(0x7b); i !== -1; i = body.indexOf(0x7b, i + 1)) if (++seen > limit) return false
  for (let i = body.indexOf(0x5b); i !== -1; i = body.indexOf(0x5b, i + 1)) if (++seen > limit) return false
  return true
}

/**
 * Replaces Fastify's JSON parser for `application/json` and `application/*+json`: invalid UTF-8
 * nesting deeper than MAX_JSON_DEPTH and `__proto__` / `constructor.prototype` keys are 400s
 * (R23, R24); an empty body is `undefined`; other content types are 415.
 */
export function registerJsonBodyParser (app: FastifyInstance): void {
  // Only JSON is accepted: Fastify's text/plain parser would hand a string to the routes.
  app.removeContentTypeParser(['application/json', 'text/plain'])
  const parse = (_req: unknown, body: Buffer, done: (err: Error | null, value?: unknown) => void): void => {
    if (body.length === 0) return done(null, undefined)
    let text: string
    try {
      text = utf8.decode(body)
    } catch {
      return done(new HERMOD_INVALID_JSON('it is not valid UTF-8'))
    }
    if (!fewOpeners(body) && jsonDepth(text) > MAX_JSON_DEPTH) return done(new HERMOD_INVALID_JSON(`it nests deeper than ${MAX_JSON_DEPTH} levels`))
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch (err) {
      const reason = err instanceof SyntaxError && /prototype|__proto__|constructor/i.test(err.message)
        ? 'it sets __proto__ or constructor.prototype'
        : 'it does not parse'
      done(new HERMOD_INVALID_JSON(reason))
    }
  }
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse)
  app.addContentTypeParser(/^application\/[\w.-]+\+json$/, { parseAs: 'buffer' }, parse)
}
