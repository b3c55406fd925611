// The loopback-only endpoints (generateclient, admin without credentials, the dev sink) behind a reverse proxy on the same host: refused.
import t, { type Test } from 'tap'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { createBroker } from '../../src/server/broker.js'
import { testConfig } from '../helpers/config.js'

const PATHS = ['/hermod/rest/util/generateclient/prime2', '/hermod/admin/callbacks/dead-letters', '/hermod/dev/callbacks']

async function listeningBroker (t: Test, trustProxy: boolean | number | string): Promise<string> {
  const broker = await createBroker(testConfig({ broker: { devSink: true, dev: { enabled: true }, trustProxy } }))
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(broker.app.server.address() as AddressInfo).port}`
}

/** A minimal reverse proxy on 127.0.0.1, as nginx would be: it adds X-Forwarded-For and X-Forwarded-Proto. */
async function reverseProxy (t: Test, target: string): Promise<string> {
  const upstream = new URL(target)
  const proxy = createServer((req, res) => {
    const forwarded = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, 'x-forwarded-for': '198.51.100.23', 'x-forwarded-proto': 'https' }
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forwarded.on('error', () => res.writeHead(502).end())
    req.pipe(forwarded)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())))
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}

t.test('a direct loopback caller is served; the same request through a reverse proxy on this host is 403 HERMOD_FORBIDDEN', async (t) => {
  const direct = await listeningBroker(t, false)
  const proxied = await reverseProxy(t, direct)
  for (const path of PATHS) {
    const ok = await request(`${direct}${path}`)
    t.equal(ok.statusCode, 200, `direct ${path}`)
    await ok.body.dump()
    const refused = await request(`${proxied}${path}`)
    t.equal(refused.statusCode, 403, `through the proxy ${path}`)
    t.equal((await refused.body.json() as { code: string }).code, 'HERMOD_FORBIDDEN')
  }
})

t.test('a forwarding header of any kind ends the loopback fallback', async (t) => {
  const direct = await listeningBroker(t, false)
  for (const header of [{ forwarded: 'for=198.51.100.23' }, { 'x-forwarded-for': '127.0.0.1' }, { 'x-real-ip': '198.51.100.23' }]) {
    const res = await request(`${direct}${PATHS[0]!}`, { headers: header })
    t.equal(res.statusCode, 403, Object.keys(header).join())
    await res.body.dump()
  }
})

t.test('with broker.trust-proxy set, no caller counts as loopback, headers or not', async (t) => {
  for (const trustProxy of [true, 1, '127.0.0.1']) {
    const direct = await listeningBroker(t, trustProxy)
    for (const path of PATHS) {
      const res = await request(`${direct}${path}`)
      t.equal(res.statusCode, 403, `trust-proxy ${String(trustProxy)}: ${path}`)
      t.equal((await res.body.json() as { code: string }).code, 'HERMOD_FORBIDDEN')
    }
  }
})
