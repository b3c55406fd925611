// Free TCP ports on 127.0.0.1, for child processes that cannot report the port they bound.
import { createServer } from 'node:net'

/** Asks the OS for a free loopback port (another process may take it before it is used: retry then). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error('no port assigned'))
      })
    })
  })
}

/** True when nothing listens on 127.0.0.1:`port` (checked by binding it). */
async function canBind (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * `count` distinct free ports below 55535 whose port + 10000 (the cluster bus port) is free too.
 * Random picks in 20000..55534, each checked by binding both.
 */
export async function freePortPairs (count: number): Promise<number[]> {
  const ports: number[] = []
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 500) throw new Error('no free port pairs (port, port + 10000) found')
    const port = 20000 + Math.floor(Math.random() * 35535)
    if (ports.some((p) => Math.abs(p - port) < 2 || p === port + 10000 || p + 10000 === port)) continue
    if (await canBind(port) && await canBind(port + 10000)) ports.push(port)
  }
  return ports
}
