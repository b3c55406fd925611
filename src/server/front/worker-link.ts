// The broker process's side of server.front-process: TLS from the front, handed sockets served, heartbeats sent (R29).
import { once } from 'node:events'
import { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Broker } from '../broker.js'
import type { TlsMaterial } from '../tls.js'
import { BEAT_INTERVAL_MS, tlsOptionsFromJson, WORKER_ENV, type ToFront, type ToWorker } from './messages.js'

/** The front's process, as this process sees it. */
export interface FrontLink {
  /** The TLS material the front loaded; null: plain HTTP. */
  tls: TlsMaterial | null
  /** Serves the sockets the front hands over with `broker`'s server; call before `broker.app.ready()`. */
  serve (broker: Broker): void
  /** Tells the front this process serves from now on, and starts the heartbeats. */
  ready (): void
}

/** This process was forked by a front (`hermod-broker start` with server.front-process on). */
export function isFrontWorker (): boolean {
  return process.env[WORKER_ENV] === '1' && typeof process.send === 'function'
}

const send = (message: ToFront): void => { if (process.connected) process.send?.(message) }

/** Waits for the front's TLS material (its first message). */
export async function connectToFront (): Promise<FrontLink> {
  // The front is gone (killed, also during start-up): nobody hands sockets any more; stop (gracefully once started).
  process.once('disconnect', () => { process.kill(process.pid, 'SIGTERM') })
  const [message] = await once(process, 'message') as [ToWorker]
  if (message.t !== 'tls') throw new Error(`the front process sent ${message.t} before its TLS material`)
  const json = message.material as (Omit<TlsMaterial, 'options'> & { options: unknown }) | null
  const tls = json === null ? null : { ...json, options: tlsOptionsFromJson(json.options) ?? {} }
  let broker: Broker | undefined
  const open = new Set<Socket>()
  return {
    tls,
    serve (served) {
      broker = served
      const { app, context } = served
      process.on('message', (msg: ToWorker, handle: unknown) => {
        if (msg.t === 'connection' && handle instanceof Socket) {
          open.add(handle)
          handle.once('close', () => open.delete(handle))
          app.server.emit('connection', handle)
        } else if (msg.t === 'shed' && msg.count > 0) {
          context.metrics.requestsShed.inc({ reason: 'front' }, msg.count)
        }
      })
      // The server never listens: this starts Node's checker of headersTimeout and requestTimeout.
      app.server.emit('listening')
      // Closing: like a listening server's close, idle sockets go at once and busy ones after their answer
      // (Connection: close while draining, app.ts); waited for, as server.close() would.
      app.addHook('preClose', async () => {
        app.server.closeIdleConnections()
        while (open.size > 0) {
          await sleep(100)
          app.server.closeIdleConnections()
        }
      })
    },
    ready () {
      if (broker === undefined) throw new Error('serve() before ready()')
      const { context } = broker
      let shedBefore = context.metrics.shedCount
      send({ t: 'ready' })
      setInterval(() => {
        const shed = context.metrics.shedCount
        send({ t: 'beat', busy: shed !== shedBefore || context.draining })
        shedBefore = shed
      }, BEAT_INTERVAL_MS).unref()
    }
  }
}
