// Open sockets per instance and per remote address (R26): counted on 'connection', refused past server.max-connections*.
import type { Server } from 'node:net'
import type { Socket } from 'node:net'

export type RefusalScope = 'instance' | 'address'

const refused = Symbol('hermod.connectionRefused')

/** How long a refused plain-HTTP socket may take to send the request it is answered 503 on, ms. */
const REFUSED_SOCKET_MS = 2000

/** The scope a socket was refused for, when it was (plain HTTP: its request is answered 503, then it closes). */
export function refusalOf (socket: Socket | undefined): RefusalScope | undefined {
  return (socket as (Socket & { [refused]?: RefusalScope }) | undefined)?.[refused]
}

/**
 * Counts the open sockets of a server, in total and per remote address. A socket over a limit is not counted:
 * a TLS one is destroyed before its handshake (no HTTP can be spoken before it, and the handshake is the
 * expensive part); a plain-HTTP one is marked, its first request answered 503 HERMOD_TOO_MANY_CONNECTIONS with
 * Connection: close (app.ts), and it is destroyed after REFUSED_SOCKET_MS without traffic. At the instance
 * limit, idle kept-alive sockets are closed (at most once a second) so that waiting clients get room.
 */
export class ConnectionLimiter {
  private open = 0
  private readonly byAddress = new Map<string, number>()
  private lastIdleSweep = 0

  constructor (
    private readonly limits: { max: number, perAddress: number },
    private readonly onRefused: (scope: RefusalScope) => void = () => {}
  ) {}

  /** Sockets counted right now. */
  get size (): number { return this.open }

  /** Sockets counted right now from `address` (tests). */
  from (address: string): number { return this.byAddress.get(address) ?? 0 }

  /** Starts counting `server`'s sockets; `tls`: refused sockets are destroyed at once. */
  attach (server: Server & { closeIdleConnections?: () => void }, tls: boolean): void {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress
      if (address === undefined) {
        socket.destroy()
        return
      }
      const scope = this.overLimit(address)
      if (scope !== undefined) {
        this.onRefused(scope)
        if (scope === 'instance') this.sweepIdle(server)
        if (tls) {
          socket.destroy()
          return
        }
        (socket as Socket & { [refused]?: RefusalScope })[refused] = scope
        // After http's own listener, so this timeout replaces the server's idle timeout for this socket.
        socket.setTimeout(REFUSED_SOCKET_MS, () => socket.destroy())
        return
      }
      this.open++
      this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1)
      socket.once('close', () => {
        this.open--
        const left = (this.byAddress.get(address) ?? 1) - 1
        if (left === 0) this.byAddress.delete(address)
        else this.byAddress.set(address, left)
      })
    })
  }

  private overLimit (address: string): RefusalScope | undefined {
    const { max, perAddress } = this.limits
    if (max > 0 && this.open >= max) return 'instance'
    if (perAddress > 0 && (this.byAddress.get(address) ?? 0) >= perAddress) return 'address'
    return undefined
  }

  private sweepIdle (server: { closeIdleConnections?: () => void }): void {
    const now = Date.now()
    if (now - this.lastIdleSweep < 1000) return
    this.lastIdleSweep = now
    server.closeIdleConnections?.()
  }
}
