// The JSON body parser: strict UTF-8, prototype-poisoning refused, empty bodies allowed (ping).
import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { HERMOD_INVALID_JSON } from './errors.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Replaces Fastify's JSON parser for `application/json` and `application/*+json`: invalid UTF-8
 * and `__proto__` / `constructor.prototype` keys are 400s (R23, R24); an empty body is `undefined`.
 */
export function registerJsonBodyParser (app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  const parse = (_req: unknown, body: Buffer, done: (err: Error | null, value?: unknown) => void): void => {
    if (body.length === 0) return done(null, undefined)
    let text: string
    try {
      text = utf8.decode(body)
    } catch {
      return done(new HERMOD_INVALID_JSON('it is not valid UTF-8'))
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch (err) {
      const reason = err instanceof SyntaxError && /prototype|__proto__|constructor/i.test(err.message)
        ? 'it sets __proto__ or constructor.prototype'
        : err instanceof RangeError ? 'it is nested too deeply' : 'it does not parse'
      done(new HERMOD_INVALID_JSON(reason))
    }
  }
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse)
  app.addContentTypeParser(/^application\/[\w.-]+\+json$/, { parseAs: 'buffer' }, parse)
}
