// The hostile suite's HTTP: whole requests (node:http/https, a connection each) and raw sockets; every answer checked for a HERMOD_* body.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

/** An answer: status, headers and the body as text. */
export interface HostileResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** 5xx answers a well-behaved broker may give under hostile load: shedding, with Retry-After. */
const TOLERATED_5XX = new Set(['HERMOD_OVERLOADED'])

/**
 * What is wrong with an answer, or undefined: an error status must carry a JSON body in the shape of
 * every Hermod error (`statusCode` equal to the status, a `HERMOD_*` code, `error`, `message`), and no
 * 5xx is acceptable but load shedding (503 HERMOD_OVERLOADED).
 */
export function answerProblem (status: number, body: string): string | undefined {
  if (status < 400) return undefined
  let parsed: { statusCode?: unknown, code?: unknown, error?: unknown, message?: unknown }
  try {
    parsed = JSON.parse(body) as typeof parsed
  } catch {
    return `${status} with a body that is not JSON`
  }
  if (typeof parsed.code !== 'string' || !/^HERMOD_[A-Z0-9_]+$/.test(parsed.code)) return `${status} without a HERMOD_* code`
  if (parsed.statusCode !== status || typeof parsed.error !== 'string' || typeof parsed.message !== 'string') return `${status} ${parsed.code}: not the error shape`
  if (status >= 500 && !(status === 503 && TOLERATED_5XX.has(parsed.code))) return `${status} ${parsed.code}`
  return undefined
}

/** The code of a HERMOD error body, or undefined. */
export function codeOf (body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

export interface SendOptions {
  headers?: OutgoingHttpHeaders | string[]
  body?: string | Buffer
  /** Abort after this long, ms (default: the client's). */
  timeoutMs?: number
}

/**
 * Requests against one origin, each on its own connection (no pool: a herd is N connections), TLS
 * unverified (a generated self-signed certificate). Every answer is checked with answerProblem; the
 * problems are kept for the case's verdict.
 */
export class HostileHttp {
  readonly problems: string[] = []
  private readonly agent: http.Agent

  constructor (readonly origin: URL, private readonly timeoutMs = 15_000) {
    const options = { keepAlive: false, maxSockets: Infinity }
    this.agent = origin.protocol === 'https:' ? new https.Agent({ ...options, rejectUnauthorized: false }) : new http.Agent(options)
  }

  /** Sends one request; rejects on a transport failure or past the timeout (then the socket is destroyed). */
  async send (method: string, path: string, options: SendOptions = {}): Promise<HostileResponse> {
    const lib = this.origin.protocol === 'https:' ? https : http
    const body = options.body
    const headers = Array.isArray(options.headers)
      ? options.headers
      : { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers }
    return await new Promise((resolve, reject) => {
      const req = lib.request({
        host: this.origin.hostname.replace(/^\[|\]$/g, ''),
        port: this.origin.port,
        method,
        path,
        headers,
        agent: this.agent,
        timeout: options.timeoutMs ?? this.timeoutMs
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const answer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }
          this.check(`${method} ${path.slice(0, 60)}`, answer.status, answer.body)
          resolve(answer)
        })
      })
      req.on('timeout', () => { req.destroy(Object.assign(new Error('no answer in time'), { code: 'HOSTILE_TIMEOUT' })) })
      req.on('error', reject)
      req.end(body)
    })
  }

  /**
   * `send`, but a broker that sheds load (503 HERMOD_OVERLOADED) is given its Retry-After (at most 2 s)
   * and asked again, up to `attempts` times: a case's own steps must not fail because an earlier case
   * (the flood) left the broker shedding for a moment.
   */
  async sendPatiently (method: string, path: string, options: SendOptions = {}, attempts = 10): Promise<HostileResponse> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(method, path, options)
      if (res.status !== 503 || codeOf(res.body) !== 'HERMOD_OVERLOADED' || attempt >= attempts) return res
      const seconds = Math.min(2, Math.max(0.1, Number(res.headers['retry-after']) || 1))
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    }
  }

  /** Records a problem of an answer got some other way (a raw socket). */
  check (what: string, status: number, body: string): void {
    const problem = answerProblem(status, body)
    if (problem !== undefined && this.problems.length < 20) this.problems.push(`${what}: ${problem}`)
  }

  /** Opens a raw connection (TLS for https), resolved once it can be written. */
  async openSocket (): Promise<Socket> {
    const host = this.origin.hostname.replace(/^\[|\]$/g, '')
    const port = Number(this.origin.port || (this.origin.protocol === 'https:' ? 443 : 80))
    return await new Promise((resolve, reject) => {
      const socket = this.origin.protocol === 'https:'
        ? tlsConnect({ host, port, rejectUnauthorized: false }, () => resolve(socket))
        : netConnect({ host, port }, () => resolve(socket))
      socket.once('error', reject)
    })
  }

  close (): void { this.agent.destroy() }
}

/** What came back on a raw connection until it closed: the status and body if an answer came, and when it closed. */
export interface RawOutcome {
  /** 0: no answer (closed or reset without one, or still open at the deadline). */
  status: number
  body: string
  /** Ms from the start until the server closed the connection; undefined if it stayed open to the deadline. */
  closedAfterMs?: number
}

/**
 * Collects what a raw connection receives until the server closes it or `deadlineMs` passes (then it is
 * destroyed by us). `onTick` runs every `tickMs` while it is open (the drips write there).
 */
export async function watchSocket (
  socket: Socket, deadlineMs: number, tick?: { everyMs: number, run: (n: number) => void }
): Promise<RawOutcome> {
  const started = Date.now()
  const chunks: Buffer[] = []
  return await new Promise((resolve) => {
    let ticks = 0
    const ticker = tick === undefined ? undefined : setInterval(() => { if (socket.writable) tick.run(++ticks) }, tick.everyMs)
    const finish = (closed: boolean): void => {
      clearInterval(ticker)
      clearTimeout(deadline)
      const { status, body } = parseAnswer(Buffer.concat(chunks).toString('latin1'))
      resolve({ status, body, ...(closed ? { closedAfterMs: Date.now() - started } : {}) })
    }
    const deadline = setTimeout(() => { socket.removeAllListeners('close'); socket.destroy(); finish(false) }, deadlineMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.once('close', () => finish(true))
  })
}

/** The status and body of a raw HTTP/1.1 answer (Content-Length bodies; enough for error answers). */
export function parseAnswer (text: string): { status: number, body: string } {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
  if (match === null) return { status: 0, body: '' }
  const end = text.indexOf('\r\n\r\n')
  const body = end === -1 ? '' : Buffer.from(text.slice(end + 4), 'latin1').toString('utf8')
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))
  return { status: Number(match[1]), body: length === null ? body : body.slice(0, Number(length[1])) }
}
