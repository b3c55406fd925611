// `bench --scenario hostile` against an in-process broker with small limits: every case passes; against misconfigured targets, cases fail.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { HOSTILE_CASE_NAMES, hostileTable, runHostile } from '../../src/bench/hostile/suite.js'
import { runBench } from '../../src/cli/bench.js'
import type { BrokerConfig } from '../../src/config/types.js'
import { createBroker } from '../../src/server/broker.js'
import { KEYS, testConfig } from '../helpers/config.js'

const PRIME = apiKeyHeader('prime', KEYS.prime)
const OTHER = apiKeyHeader('other', KEYS.other)

/** A listening broker on loopback; `timeouts` gives its HTTP server short request deadlines (server.timeouts), checked every 250 ms. */
async function listeningBroker (t: Test, config: BrokerConfig, timeouts: boolean): Promise<string> {
  const short = { ...config.server.timeouts, headers: 2000, request: 2000, checkingInterval: 250 }
  const server = timeouts ? { ...config.server, timeouts: short } : config.server
  const broker = await createBroker({ ...config, server })
  t.teardown(() => broker.close())
  broker.start()
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(broker.app.server.address() as AddressInfo).port}/hermod/rest`
}

function smallLimits (): BrokerConfig {
  const config = testConfig({ broker: { commands: { bodyLimit: 65536 } } })
  const rateLimit = { enabled: true, windowMs: 60_000, perClientMax: 60, perBoxMax: 150, perAddressMax: 5000 }
  return { ...config, broker: { ...config.broker, rateLimit } }
}

/** Runs `hermod-broker bench` with stdout and stderr captured: its exit code and what it printed. */
async function bench (args: string[]): Promise<{ code: number, out: string }> {
  const written: string[] = []
  const stderr = process.stderr.write.bind(process.stderr)
  const stdout = process.stdout.write.bind(process.stdout)
  process.stderr.write = (() => true) as typeof process.stderr.write
  process.stdout.write = ((chunk: string) => { written.push(String(chunk)); return true }) as typeof process.stdout.write
  try {
    return { code: await runBench(args), out: written.join('') }
  } finally {
    process.stderr.write = stderr
    process.stdout.write = stdout
  }
}

t.test('every case passes against a broker with small limits', async (t) => {
  const url = new URL(await listeningBroker(t, smallLimits(), true))
  const results = await runHostile({
    origin: url.origin,
    prefix: url.pathname,
    apiKey: PRIME,
    otherApiKey: OTHER,
    cutWithinMs: 10_000,
    herd: 200,
    flood: 100,
    rateLimit: 60,
    bodyLimit: 65536
  })
  const table = hostileTable(results)
  t.comment(table)
  t.same(results.map((r) => r.name), HOSTILE_CASE_NAMES, 'every case ran, in order')
  for (const r of results) t.equal(r.verdict, 'pass', `${r.name}: ${r.detail}`)
  t.match(table, /hostile: 11 cases, 11 passed, 0 failed, 0 skipped/)
  t.match(results.find((r) => r.name === 'long-poll-herd')?.detail, /200 waits: \d+ woken with the message, \d+ refused \(\d+ 429 HERMOD_RATE_LIMITED\)/)
  t.match(results.find((r) => r.name === 'dripped-headers')?.detail, /cut after \d+\.\d s/)
})

t.test('the CLI exits 1 when a case fails: a target without the rate limit it is said to have', async (t) => {
  const url = await listeningBroker(t, testConfig(), false)
  const { code, out } = await bench(['--scenario', 'hostile', '--url', url, '--api-key', PRIME, '--rate-limit', '5', '--cases', 'rate-limit,still-serves'])
  t.equal(code, 1)
  t.match(out, /rate-limit\s+fail\s+[\d.]+ s\s+no 429 in 6 requests, though --rate-limit 5 was given/)
  t.match(out, /still-serves\s+pass/)
  t.match(out, /hostile: 2 cases, 1 passed, 1 failed, 0 skipped/)
})

t.test('a dripping client not cut in time fails, and so does a target whose errors are not HERMOD_* JSON', async (t) => {
  const slow = await listeningBroker(t, testConfig(), false)
  const dripped = await bench(['--scenario', 'hostile', '--url', slow, '--api-key', PRIME, '--cut-within', '1', '--cases', 'dripped-headers'])
  t.equal(dripped.code, 1)
  t.match(dripped.out, /dripped-headers\s+fail\s+[\d.]+ s\s+a header line every 250 ms: still open after 1\.0 s/)

  const plain: Server = createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found') })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { plain.close() })
  const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/hermod/rest`
  const routes = await bench(['--scenario', 'hostile', '--url', url, '--api-key', PRIME, '--cases', 'unknown-routes,malformed-api-keys'])
  t.equal(routes.code, 1)
  t.match(routes.out, /malformed-api-keys\s+fail/)
  t.match(routes.out, /unknown-routes\s+fail\s+[\d.]+ s\s+.*not JSON/)
})

t.test('hostile options: --url is required, case names are checked', async (t) => {
  const usage = await bench(['--scenario', 'hostile'])
  t.equal(usage.code, 2)
  const unknown = await bench(['--scenario', 'hostile', '--url', 'http://127.0.0.1:1/x', '--api-key', 'k', '--cases', 'nope'])
  t.equal(unknown.code, 2)
})
