// A free TCP port on 127.0.0.1, for a child process that cannot report the port it bound.
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
