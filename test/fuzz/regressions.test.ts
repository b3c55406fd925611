// The shrunk counterexamples the OpenAPI fuzzer found, kept by name: each must now be answered as the document says.
import t from 'tap'
import { fuzzConfig, startFuzzTarget } from './fuzz-target.js'
import type { FuzzRequest } from './request-arbitraries.js'

const base: Omit<FuzzRequest, 'operationId'> = { pick: 0, path: {}, query: [], headers: {}, apiKey: 'prime' }

/** Name -> the request fast-check shrank it to, and the status (and code) it must get. */
const REGRESSIONS: Array<[name: string, request: FuzzRequest, status: number, code?: string]> = [
  // Was 401 HERMOD_INVALID_REQUEST "The request is malformed" (@fastify/basic-auth's own error code, mapped by status only).
  ['an admin route without Authorization is 401 HERMOD_UNAUTHORIZED', { ...base, operationId: 'listDeadLetters' }, 401, 'HERMOD_UNAUTHORIZED'],
  ['an admin route with a malformed Basic value is 401 HERMOD_UNAUTHORIZED',
    { ...base, operationId: 'replayDeadLetter', path: { id: { raw: 'x' } }, authorization: { raw: 'Basic !!!' } }, 401, 'HERMOD_UNAUTHORIZED'],
  // Was a document gap: the route's own 400 hid the common one, so HERMOD_INVALID_JSON was not listed.
  ['a cut JSON body on a dev route is a documented 400 HERMOD_INVALID_JSON',
    { ...base, operationId: 'putDevApiAutoAnswer', body: { contentType: 'application/json', text: '{' } }, 400, 'HERMOD_INVALID_JSON'],
  // Was a document gap: answerMessage's 400 named only the answer's and the body's codes, not a malformed URL's.
  ['a malformed escape in a device path is a documented 400 HERMOD_INVALID_REQUEST',
    { ...base, operationId: 'answerMessage', path: { bid: { verbatim: '%' }, mid: { raw: 'x' } } }, 400, 'HERMOD_INVALID_REQUEST'],
  // Was a document gap: DELETE bodies are parsed too (415 for a body that is not JSON).
  // Were document gaps of the console's dev routes: their 404s were listed with the generic HERMOD_NOT_FOUND only.
  ['a dev replay of an unknown dead letter is a documented 404 HERMOD_DEAD_LETTER_NOT_FOUND',
    { ...base, operationId: 'postDevApiDeadLettersByIdReplay', path: { id: { raw: 'x' } } }, 404, 'HERMOD_DEAD_LETTER_NOT_FOUND'],
  ['verifying an attempt the delivery log does not hold is a documented 404 HERMOD_CALLBACK_NOT_LOGGED',
    { ...base, operationId: 'postDevApiCallbacksVerify', body: { contentType: 'application/json', text: '{"eventId":" "}' } }, 404, 'HERMOD_CALLBACK_NOT_LOGGED'],
  ['a DELETE with a text body is a documented 415', { ...base, operationId: 'cancelCommand', path: { commandId: 'known' }, body: { contentType: 'text/plain', text: '{}' } }, 415,
    'HERMOD_UNSUPPORTED_MEDIA_TYPE']
]

t.test('each shrunk counterexample is answered as the document says', async (t) => {
  const target = await startFuzzTarget(t, fuzzConfig())
  for (const [name, request, status, code] of REGRESSIONS) {
    const answer = await target.check(request)
    t.same(answer.problems, [], `${name}: ${answer.summary}`)
    t.equal(answer.status, status, name)
    if (code !== undefined) t.match(answer.summary, `"code":"${code}"`, name)
  }
})
