// The load generator's HTTP side: one keep-alive undici Pool per target, raw dispatch, TLS as the ceiling uses it.
import type { IncomingHttpHeaders } from 'node:http'
import { Pool, type Dispatcher } from 'undici'

/**
 * TLS of every bench client, the ceiling's included: TLS 1.3 only, no client certificate, no
 * verification (the broker's certificate is a generated self-signed one), SNI off (loopback IP).
 */
export const BENCH_TLS = { rejectUnauthorized: false, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const

/** A finished exchange: status and the whole body as text. */
export interface BenchResponse {
  status: number
  body: string
}

/** How to reach a target. */
export interface BenchClientOptions {
  /** `https://127.0.0.1:20400` (origin only). */
  origin: string
  /** Keep-alive connections; one request at a time on each (no pipelining). */
  connections: number
  /** Abort a request after this long, ms (it then counts as a `timeout` error). Default 10 s. */
  timeoutMs?: number
}

/** Headers sent with every JSON request. */
const JSON_TYPE = 'application/json'

/**
 * A cheap HTTP client for load: `dispatch` with a plain handler (no stream objects per request),
 * bodies collected as Buffers and decoded once.
 */
export class BenchClient {
  private readonly pool: Pool
  private readonly timeoutMs: number

  constructor (options: BenchClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.pool = new Pool(options.origin, {
      connections: Math.max(1, options.connections),
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { ...BENCH_TLS, timeout: this.timeoutMs }
    })
  }

  /** Sends one request; rejects with undici's error (see `errorKind`) on a transport failure. */
  async send (method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: string): Promise<BenchResponse> {
    return await new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let status = 0
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart () {},
        onResponseStart (_controller, statusCode: number, _headers: IncomingHttpHeaders) { status = statusCode },
        onResponseData (_controller, chunk: Buffer) { chunks.push(chunk) },
        onResponseEnd () {
          resolve({ status, body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8') })
        },
        onResponseError (_controller, err: Error) { reject(err) }
      }
      this.pool.dispatch({
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'content-type': JSON_TYPE },
        body: body ?? null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs
      }, handler)
    })
  }

  /** Closes the pool (waits for requests in flight). */
  async close (): Promise<void> {
    await this.pool.close()
  }
}

/** A short, stable name for a failure: `status 503` for an HTTP answer, else the error code (`ECONNRESET`, `timeout`). */
export function errorKind (err: unknown): string {
  if (err instanceof HttpStatusError) return `status ${err.status}`
  const code = (err as { code?: unknown } | undefined)?.code
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout'
  if (typeof code === 'string') return code
  if (err instanceof Error && err.message !== '') return err.message.slice(0, 60)
  return 'error'
}

/** An answer with an unexpected status; `errorKind` names it `status <n>`. */
export class HttpStatusError extends Error {
  constructor (readonly status: number, readonly body: string) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`)
    this.name = 'HttpStatusError'
  }
}
