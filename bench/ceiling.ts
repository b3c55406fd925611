// The ceiling: a bare Fastify HTTPS route on the broker's TLS settings that parses the same JSON and answers a same-sized body.
// Run as its own process (`node dist/bench/ceiling.js [--port N]`); prints {"port":N} once listening, stops on SIGTERM.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import Fastify from 'fastify'
import { loadTlsMaterial } from '../src/server/tls.js'

/** An accept answer of the broker's shape and size (same fqdn, public URL form and UUIDs). */
export function sampleAcceptAnswer (port: number, fqdn = hostname()): object {
  const publicUrl = `https://127.0.0.1:${port}/hermod/rest/ms`
  const bid = randomUUID()
  return {
    commandId: '123456',
    destinations: [{
      to: '@tmp',
      bid,
      mid: randomUUID(),
      uri: `com.nexusgroup.plugout:///?url=${encodeURIComponent(`${publicUrl}/${bid}`)}&token=${randomUUID()}`,
      location: `${publicUrl}/${bid}/${randomUUID()}`
    }],
    commandType: 'SIGN',
    state: 'IN_PROGRESS',
    fqdn
  }
}

async function main (): Promise<void> {
  // The broker's own TLS path: a generated EC P-256 certificate, TLS 1.2 minimum (start.ts, tls.ts).
  const tls = await loadTlsMaterial({ enabled: true, clientAuth: 'none' }, { hostnames: [hostname()] })
  const app = Fastify({
    logger: false,
    https: tls!.options,
    // The timeouts start.ts gives the broker's server.
    requestTimeout: 30_000,
    connectionTimeout: 90_000,
    keepAliveTimeout: 72_000
  })
  let answer: object = {}
  app.post('/hermod/rest/command/:type', async (request) => {
    if (typeof request.body !== 'object' || request.body === null) throw new Error('no body')
    return answer
  })
  // `--port N` for loading it by hand (wrk, autocannon); the bench lets the OS pick one.
  const at = process.argv.indexOf('--port')
  await app.listen({ port: at > 0 ? Number(process.argv[at + 1]) : 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  answer = sampleAcceptAnswer(port)
  process.stdout.write(`${JSON.stringify({ port, bytes: JSON.stringify(answer).length })}\n`)
  const stop = (): void => { void app.close().then(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, ''))) {
  main().catch((err: unknown) => {
    process.stderr.write(`ceiling: ${(err as Error).message}\n`)
    process.exit(1)
  })
}
