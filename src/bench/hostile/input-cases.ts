// Hostile input: malformed API keys, oversized bodies, unknown routes, bad JSON. Each answer is a 4xx with a HERMOD_* body.
import { randomUUID } from 'node:crypto'
import { codeOf, watchSocket, type HostileResponse } from './http.js'
import type { CaseContext, CaseOutcome, HostileCase } from './suite.js'

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')

/** `expected` codes per label; a mismatch is one line of the detail. */
function mismatches (answers: Array<[string, HostileResponse, number, string]>): string[] {
  return answers
    .filter(([, res, status, code]) => res.status !== status || codeOf(res.body) !== code)
    .map(([label, res, status, code]) => `${label}: ${res.status} ${codeOf(res.body) ?? '(no code)'}, expected ${status} ${code}`)
}

export const malformedApiKeys: HostileCase = {
  name: 'malformed-api-keys',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const decoded = Buffer.from(options.apiKey, 'base64').toString('utf8')
    const clientId = decoded.slice(0, Math.max(0, decoded.indexOf(':')))
    const variants: Array<[string, string | string[] | undefined]> = [
      ['none', undefined],
      ['empty', ''],
      ['not base64', '!!not*base64!!'],
      ['no colon', b64('nocolonatall')],
      ['empty key', b64(`${clientId}:`)],
      ['empty client', b64(':secret')],
      ['unknown client', b64(`no-such-client-${randomUUID()}:secret`)],
      ['wrong key', b64(`${clientId}:${randomUUID()}`)],
      ['truncated', options.apiKey.slice(0, -2)],
      ['oversized', 'A'.repeat(8000)],
      ['twice', [options.apiKey, options.apiKey]]
    ]
    const bodies = new Set<string>()
    const wrong: string[] = []
    for (const [label, value] of variants) {
      for (const [method, path] of [['GET', `${options.prefix}/command/1`], ['POST', `${options.prefix}/command/ping`]] as const) {
        const headers = value === undefined
          ? {}
          : Array.isArray(value) ? ['host', http.origin.host, 'x-api-key', value[0]!, 'x-api-key', value[1]!] : { 'x-api-key': value }
        const res = await http.send(method, path, { headers })
        if (res.status !== 401 || codeOf(res.body) !== 'HERMOD_UNAUTHORIZED') wrong.push(`${label} (${method}): ${res.status}`)
        bodies.add(res.body)
      }
    }
    if (wrong.length > 0) return { verdict: 'fail', detail: `not 401 HERMOD_UNAUTHORIZED: ${wrong.join(', ')}` }
    if (bodies.size !== 1) return { verdict: 'fail', detail: `${bodies.size} different 401 bodies: a caller can tell the failures apart` }
    return { verdict: 'pass', detail: `${variants.length} malformed keys x 2 routes: all 401 HERMOD_UNAUTHORIZED, one body` }
  }
}

export const oversizedBodies: HostileCase = {
  name: 'oversized-body',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const head = (extra: string): string =>
      `POST ${options.prefix}/command/sign HTTP/1.1\r\nHost: ${http.origin.host}\r\nX-Api-Key: ${options.apiKey}\r\nContent-Type: application/json\r\n${extra}\r\n`
    // Declared: 512 MiB, over any allowed body-limit; the answer must come before any body is sent.
    const declared = await http.openSocket()
    declared.write(head('Content-Length: 536870912\r\nConnection: close\r\n'))
    const early = await watchSocket(declared, 10_000)
    http.check('declared 512 MiB', early.status, early.body)
    // Streamed (chunked, no length): past the limit, the broker must stop reading and answer.
    const streamed = await http.openSocket()
    streamed.write(head('Transfer-Encoding: chunked\r\nConnection: close\r\n'))
    const chunk = Buffer.from('1,'.repeat(32_768))
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    const most = options.bodyLimit + 1024 * 1024
    let sent = 0
    const pump = (): void => {
      while (sent < most && streamed.writable) {
        sent += chunk.length
        if (!streamed.write(framed)) { streamed.once('drain', pump); return }
      }
    }
    pump()
    const late = await watchSocket(streamed, 20_000)
    http.check('streamed body', late.status, late.body)
    const answers: Array<[string, HostileResponse, number, string]> = [
      ['declared 512 MiB', { status: early.status, headers: {}, body: early.body }, 413, 'HERMOD_PAYLOAD_TOO_LARGE'],
      [`streamed ${Math.round(most / 1024)} KiB`, { status: late.status, headers: {}, body: late.body }, 413, 'HERMOD_PAYLOAD_TOO_LARGE']
    ]
    const wrong = mismatches(answers)
    if (wrong.length > 0) return { verdict: 'fail', detail: wrong.join('; ') }
    return { verdict: 'pass', detail: `declared 512 MiB and streamed past ${Math.round(options.bodyLimit / 1024)} KiB: 413 HERMOD_PAYLOAD_TOO_LARGE (${Math.round(sent / 1024)} KiB sent)` }
  }
}

export const unknownRoutes: HostileCase = {
  name: 'unknown-routes',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const p = options.prefix
    const probes: Array<[string, string, string]> = [
      ['GET', `/no-such-route-${randomUUID()}`, 'outside the API'],
      ['GET', `${p}/no-such-route`, 'under the API'],
      ['PUT', `${p}/command/1`, 'unknown method'],
      ['GET', `${p}/command/%zz`, 'bad escape'],
      ['GET', `${p}/ms/${'a'.repeat(150)}`, 'segment over 100 characters'],
      ['GET', `${p}/../../../../etc/passwd`, 'dot segments'],
      ['GET', `${p}/ms/%00%0d%0a`, 'control characters']
    ]
    const seen: string[] = []
    const wrong: string[] = []
    const judge = (label: string, status: number, body: string): void => {
      const code = codeOf(body)
      if (status < 400 || status >= 500 || code === undefined) wrong.push(`${label}: ${status} ${code ?? ''}`.trim())
      seen.push(`${status}`)
    }
    for (const [method, path, label] of probes) {
      const res = await http.send(method, path)
      judge(label, res.status, res.body)
    }
    // HTTP/1.1 without Host (RFC 9112 section 3.2: a 400), written by hand: every client library adds one.
    const hostless = await http.openSocket()
    hostless.write(`GET ${p}/command/1 HTTP/1.1\r\nConnection: close\r\n\r\n`)
    const outcome = await watchSocket(hostless, 10_000)
    http.check('no Host header', outcome.status, outcome.body)
    judge('no Host header', outcome.status, outcome.body)
    if (wrong.length > 0) return { verdict: 'fail', detail: wrong.join('; ') }
    return { verdict: 'pass', detail: `${probes.length + 1} probes (unknown paths and methods, bad escapes, no Host): all 4xx HERMOD_* (${[...new Set(seen)].join('/')})` }
  }
}

export const badJson: HostileCase = {
  name: 'bad-json',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const key = { 'x-api-key': options.apiKey }
    const post = async (body: string | Buffer, type = 'application/json'): Promise<HostileResponse> =>
      await http.send('POST', `${options.prefix}/command/sign`, { headers: { ...key, 'content-type': type }, body })
    const answers: Array<[string, HostileResponse, number, string]> = [
      ['truncated', await post('{"signCommand":'), 400, 'HERMOD_INVALID_JSON'],
      ['not JSON', await post('hello'), 400, 'HERMOD_INVALID_JSON'],
      ['bad UTF-8', await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), 400, 'HERMOD_INVALID_JSON'],
      ['nested 10,000 deep', await post('['.repeat(10_000)), 400, 'HERMOD_INVALID_JSON'],
      ['__proto__', await post('{"__proto__":{"polluted":true},"signCommand":{}}'), 400, 'HERMOD_INVALID_JSON'],
      ['text/plain', await post('{}', 'text/plain'), 415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE'],
      ['an array', await post('[]'), 400, 'HERMOD_INVALID_COMMAND'],
      ['wrong header types', await post('{"commandHeader":{"timeout":"soon","to":"me"}}'), 400, 'HERMOD_INVALID_COMMAND']
    ]
    const wrong = mismatches(answers)
    if (wrong.length > 0) return { verdict: 'fail', detail: wrong.join('; ') }
    return { verdict: 'pass', detail: `${answers.length} bodies: 400 HERMOD_INVALID_JSON / HERMOD_INVALID_COMMAND, 415 for text/plain` }
  }
}
