// Free ports for child processes: below the kernel's ephemeral range, so that a server restarted on its port (a killed
// Redis node) cannot find it taken by some connection's source port meanwhile.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { freePort, freePortPairs } from '../../src/bench/free-port.js'

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

async function bindable (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

t.test('freePort: below the ephemeral range and free', async (t) => {
  const ports = await Promise.all(Array.from({ length: 20 }, async () => await freePort()))
  for (const port of ports) {
    t.ok(port >= 10000 && port < ephemeralLow, `${port} is in 10000..${ephemeralLow - 1}`)
    t.ok(await bindable(port), `${port} can be bound`)
  }
})

t.test('freePortPairs: six ports, each with its bus port (+10000), all below the ephemeral range and free', async (t) => {
  const ports = await freePortPairs(6)
  t.equal(new Set(ports).size, 6)
  for (const port of ports) {
    t.ok(port + 10000 < ephemeralLow, `${port} and ${port + 10000} are below ${ephemeralLow}`)
    t.ok(await bindable(port) && await bindable(port + 10000), `${port} and its bus port can be bound`)
  }
})
