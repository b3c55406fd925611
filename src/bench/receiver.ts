// The bench's callback receiver: a plain node:http server on loopback that answers 204 at once and reports each callback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One callback as the receiver saw it. Times are ms since the epoch. */
export interface ReceivedCallback {
  commandId: string
  /** `COMPLETED`, `REJECTED`, `TIMEOUT` or `CANCELLED`. */
  state: string
  /** The command's createdAt, from the webhook-id (`cmd_<id>_<state>_<createdAt base 36>`). */
  createdAt: number
  receivedAt: number
  /** The body's finishedAt, when the receiver parses bodies. */
  finishedAt?: number
}

/** What the receiver does with what it gets. */
export interface ReceiverOptions {
  /** Called for every well-formed callback, synchronously, before the 204 is sent. */
  onCallback: (callback: ReceivedCallback) => void
  /** Parse each body for `finishedAt` (expiry runs); off by default, as it costs CPU. */
  parseBodies?: boolean
  /** Port to listen on (default 0: any free one), always on 127.0.0.1. */
  port?: number
}

/** A listening receiver; `url` is the callback-url to give the broker's client. */
export interface CallbackReceiver {
  url: string
  port: number
  /** Requests that were not a recognisable callback (no or malformed webhook-id). */
  readonly malformed: number
  close (): Promise<void>
}

/** Splits a Standard Webhooks id of the broker into command id, state and createdAt. */
export function parseWebhookId (id: string | string[] | undefined): { commandId: string, state: string, createdAt: number } | undefined {
  if (typeof id !== 'string') return undefined
  const parts = id.split('_')
  if (parts.length !== 4 || parts[0] !== 'cmd') return undefined
  const createdAt = parseInt(parts[3]!, 36)
  if (!Number.isFinite(createdAt)) return undefined
  return { commandId: parts[1]!, state: parts[2]!.toUpperCase(), createdAt }
}

/** Starts a receiver on 127.0.0.1. Keep-alive stays on so the broker reuses its connections. */
export async function startReceiver (options: ReceiverOptions): Promise<CallbackReceiver> {
  let malformed = 0
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const parsed = parseWebhookId(req.headers['webhook-id'])
    const chunks: Buffer[] = []
    if (options.parseBodies === true) req.on('data', (chunk: Buffer) => chunks.push(chunk))
    else req.resume()
    req.once('end', () => {
      const receivedAt = Date.now()
      if (parsed === undefined) {
        malformed++
      } else {
        const callback: ReceivedCallback = { ...parsed, receivedAt }
        if (options.parseBodies === true) {
          try {
            const finishedAt = Date.parse((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { finishedAt?: string }).finishedAt ?? '')
            if (Number.isFinite(finishedAt)) callback.finishedAt = finishedAt
          } catch {}
        }
        options.onCallback(callback)
      }
      res.writeHead(204).end()
    })
  }
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get malformed () { return malformed },
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
