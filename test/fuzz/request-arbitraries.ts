// fast-check arbitraries of requests to one OpenAPI operation: values its schemas allow, hostile ones, ids the broker handed out.
import fc from 'fast-check'
import type { Operation, Parameter, Schema } from './openapi-operations.js'

/** A parameter's value: `known` takes an id the broker handed out (resolved when sent), `raw` is sent encoded, `verbatim` as is. */
export type ParamValue = 'known' | { raw: string } | { verbatim: string }

/** One generated request, plain data: fast-check prints it as the counterexample, a regression test can hold it. */
export interface FuzzRequest {
  operationId: string
  /** Which of the known ids (commands, destinations) `known` values take. */
  pick: number
  path: Record<string, ParamValue>
  query: Array<[string, ParamValue]>
  headers: Record<string, string>
  /** `prime` | `hag` | `other`: a valid key; `none`; or an X-Api-Key value sent as is. */
  apiKey: 'prime' | 'hag' | 'other' | 'none' | { invalid: string }
  /** `admin`: the admin credentials (Basic); otherwise an Authorization value sent as is. */
  authorization?: 'admin' | { raw: string }
  body?: { contentType?: string, text: string }
}

/** Query parameters that hold a request open (long polls): always sent, 0 or 1 second, so the run stays bounded. */
const LONG_POLL_PARAMS = new Set(['wait', 'timeout'])
/** Parameter names whose valid values the broker hands out (see KnownIds). */
const KNOWN_NAMES = new Set(['commandId', 'bid', 'mid', 'token', 'clientId', 'profile'])

const HOSTILE_STRINGS = [
  ' ', '..', '.', '%', '__proto__', 'constructor', 'prototype', '9'.repeat(25), 'a'.repeat(101), 'b'.repeat(300), '-1', '1e3', '0x10',
  'null', '[]', '{}', '😀', '\ud800', 'é', '\u0000', '\u202e', '<script>', "' OR 1=1 --", '${jndi:ldap://x}', '../../etc/passwd', 'ping', 'sign'
]
/** Unencoded path or query text the router must refuse cleanly (bad escapes, an encoded NUL, overlong UTF-8). */
const VERBATIM = ['%', '%zz', '%C0%AF', '%00', '%E0%80', '%2e%2e', '%u0041', '%%']

const hostileString = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 1, maxLength: 160 })
)
const headerSafe = (): fc.Arbitrary<string> => fc.stringMatching(/^[\x21-\x7e]{1,60}$/)

/** Values `schema` allows (bounded sizes), for the broker to accept or refuse on its own rules. */
export function valueFor (schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  const branches = schema.anyOf ?? schema.oneOf
  if (Array.isArray(branches)) return fc.oneof(...branches.map((b: Schema) => valueFor(b, depth)))
  switch (schema.type) {
    case 'string':
      if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern))
      if (schema.format === 'uuid') return fc.uuid()
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) })
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 })
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(valueFor(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4)
      })
    case 'object': {
      const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>)
      if (properties.length === 0 || depth > 3) {
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
      }
      return fc.record(Object.fromEntries(properties.map(([k, v]) => [k, valueFor(v, depth + 1)])), { requiredKeys: schema.required ?? [] })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** A value of a parameter: a known id, one its schema allows, or a hostile one (never empty in a path: that is another URL). */
function parameterValue (operation: Operation, p: Parameter): fc.Arbitrary<ParamValue> {
  const valid = valueFor(p.schema).map((v) => String(v))
  if (p.in === 'query' && LONG_POLL_PARAMS.has(p.name)) {
    return fc.oneof({ arbitrary: fc.constantFrom('0', '0', '1').map((raw) => ({ raw })), weight: 4 }, { arbitrary: fc.constantFrom('x', '-1', '0.5', '9999').map((raw) => ({ raw })), weight: 1 })
  }
  const pathSafe = (s: string): string => p.in === 'path' && s === '' ? 'x' : s
  const choices: Array<{ arbitrary: fc.Arbitrary<ParamValue>, weight: number }> = [
    { arbitrary: valid.map((raw) => ({ raw: pathSafe(raw) })), weight: 3 },
    { arbitrary: hostileString().map((raw) => ({ raw })), weight: 2 },
    { arbitrary: fc.constantFrom(...VERBATIM).map((verbatim) => ({ verbatim })), weight: 1 }
  ]
  if (KNOWN_NAMES.has(p.name)) choices.push({ arbitrary: fc.constant('known' as const), weight: 6 })
  if (operation.operationId === 'getDevApiCallbacksWait' && p.name === 'commandId') choices.push({ arbitrary: fc.constant('known' as const), weight: 6 })
  return fc.oneof(...choices)
}

/** A body for `operation`: its example, values its schema allows, any JSON, broken JSON, other media types, or none. */
function bodyFor (operation: Operation): fc.Arbitrary<FuzzRequest['body']> {
  const contentType = fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 8 },
    { arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data'), weight: 2 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: headerSafe(), weight: 1 }
  )
  const json = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<string> => arb.map((v) => JSON.stringify(v) ?? 'null')
  const texts: Array<{ arbitrary: fc.Arbitrary<string>, weight: number }> = [
    { arbitrary: json(fc.jsonValue({ maxDepth: 3 })), weight: 2 },
    { arbitrary: fc.constantFrom('', '{', '{"a":', 'null', '[]', '"x"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', '\u0000', '{"a":"\\ud800"}'), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 1 }
  ]
  if (operation.body !== undefined) {
    const { schema, example } = operation.body
    texts.push({ arbitrary: json(valueFor(schema)), weight: 5 })
    texts.push({
      arbitrary: json(fc.tuple(valueFor(schema), fc.constantFrom('state', 'commandId', 'group', 'clientId', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 1 }))
        .map(([v, k, x]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...v, [k]: x } : v))),
      weight: 2
    })
    if (example !== undefined) texts.push({ arbitrary: fc.constant(JSON.stringify(example)), weight: 3 })
  }
  const some = fc.record({ contentType, text: fc.oneof(...texts) }, { requiredKeys: ['text'] })
    .map((b) => (b.contentType === undefined ? { text: b.text } : { contentType: b.contentType, text: b.text }))
  if (operation.body !== undefined) return some
  if (operation.method === 'GET') return fc.constant(undefined)
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: some, weight: 1 })
}

const apiKey: fc.Arbitrary<FuzzRequest['apiKey']> = fc.oneof(
  { arbitrary: fc.constantFrom('prime' as const, 'hag' as const, 'other' as const), weight: 6 },
  { arbitrary: fc.constant('none' as const), weight: 1 },
  {
    arbitrary: fc.oneof(
      fc.tuple(hostileString(), hostileString()).map(([id, key]) => Buffer.from(`${id}:${key}`).toString('base64')),
      fc.string({ maxLength: 64 }).map((key) => Buffer.from(`prime:${key}`).toString('base64')),
      headerSafe()
    ).map((invalid) => ({ invalid })),
    weight: 2
  }
)

const authorization: fc.Arbitrary<FuzzRequest['authorization']> = fc.oneof(
  { arbitrary: fc.constant('admin' as const), weight: 4 },
  { arbitrary: fc.constant(undefined), weight: 2 },
  {
    arbitrary: fc.oneof(
      fc.constantFrom('Basic', 'Basic ', 'Basic !!!', 'Bearer abc', 'basic b3BzOm9wcw==', 'Digest username="ops"'),
      fc.tuple(hostileString(), hostileString()).map(([user, password]) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`),
      headerSafe().map((text) => `Basic ${text}`)
    ).map((raw) => ({ raw })),
    weight: 2
  }
)

/** Operations that wipe or age every command: called less often, so that the others still meet live commands. */
const WIPING = new Set(['postDevApiReset', 'postDevApiClockAdvance'])

/** Requests to any of `operations`: the Hermod API (command, device, util) twice as often as the rest, the wiping ones rarely. */
export function requestsForAll (operations: Operation[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...operations.map((op) => ({
    arbitrary: requestsFor(op),
    weight: WIPING.has(op.operationId) ? 1 : /\/rest\//.test(op.path) ? 8 : 4
  })))
}

/** Requests to `operation`. */
export function requestsFor (operation: Operation): fc.Arbitrary<FuzzRequest> {
  const byIn = (where: Parameter['in']): Parameter[] => operation.parameters.filter((p) => p.in === where)
  const path = fc.record(Object.fromEntries(byIn('path').map((p) => [p.name, parameterValue(operation, p)])))
  // A long-poll parameter is always sent: its default may be long (callbacks/wait: 30 s).
  const documented = byIn('query').map((p) => {
    const pair = parameterValue(operation, p).map((v) => [p.name, v] as [string, ParamValue])
    return LONG_POLL_PARAMS.has(p.name) ? pair : fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: pair, weight: 1 })
  })
  const extra = fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'limit', 'token', 'q', ...byIn('query').map((p) => p.name)), hostileString().map((raw) => ({ raw })))
    .map(([k, v]) => [k, v] as [string, ParamValue]), { nil: undefined, freq: 4 })
  const query = fc.tuple(fc.tuple(...documented), extra)
    .map(([params, more]) => [...params, more].filter((q): q is [string, ParamValue] => q !== undefined))
  const headerParams = byIn('header').map((p) => fc.option(fc.oneof(valueFor(p.schema).map(String), headerSafe()).map((v) => [p.name, v] as const), { nil: undefined }))
  const headers = fc.tuple(...headerParams).map((hs) => Object.fromEntries(hs.filter((h) => h !== undefined)))
  return fc.record({
    operationId: fc.constant(operation.operationId),
    pick: fc.nat({ max: 1000 }),
    path,
    query,
    headers,
    apiKey,
    authorization,
    body: bodyFor(operation)
  }, { requiredKeys: ['operationId', 'pick', 'path', 'query', 'headers', 'apiKey'] })
}
