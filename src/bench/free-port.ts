// Free TCP ports on 127.0.0.1, for child processes that cannot report the port they bound: below the kernel's ephemeral range.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** The lowest port of the kernel's ephemeral (source port) range: Linux's ip_local_port_range, else 32768. */
function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 1024 ? low : 32768
  } catch {
    return 32768
  }
}

const LOWEST = 10000

/** True when nothing listens on 127.0.0.1:`port` (checked by binding it). */
async function canBind (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port the OS picks (in its ephemeral range): the fallback when there is no room below it. */
async function anyFreePort (): Promise<number> {
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

/**
 * A free loopback port, a random one in 10000 up to the kernel's ephemeral range, checked by binding it (another
 * process may still take it before it is used: retry then). Below that range because a port the OS hands out
 * as a connection's source port can be taken at any moment once free: a server killed and restarted on its
 * port (a Redis failover test) or started some time after the pick would find it in use.
 */
export async function freePort (): Promise<number> {
  const span = ephemeralLow() - LOWEST
  if (span > 100) {
    for (let tries = 0; tries < 200; tries++) {
      const port = LOWEST + Math.floor(Math.random() * span)
      if (await canBind(port)) return port
    }
  }
  return await anyFreePort()
}

/**
 * `count` distinct free ports whose port + 10000 (the cluster bus port) is free too, both below the ephemeral
 * range (see freePort) where it leaves room, else in 20000..55534. Random picks, each checked by binding both.
 */
export async function freePortPairs (count: number): Promise<number[]> {
  const below = ephemeralLow() - 10000 - LOWEST
  const [from, span] = below > 500 ? [LOWEST, below] : [20000, 35535]
  const ports: number[] = []
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 500) throw new Error('no free port pairs (port, port + 10000) found')
    const port = from + Math.floor(Math.random() * span)
    if (ports.some((p) => Math.abs(p - port) < 2 || p === port + 10000 || p + 10000 === port)) continue
    if (await canBind(port) && await canBind(port + 10000)) ports.push(port)
  }
  return ports
}
