// A broker with the dev surface on, listening on loopback, whose clients call back into its own dev sink.
import type { Test } from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import type { BrokerConfig, ClientConfig } from '../../src/config/types.js'
import { createBroker, type Broker, type BrokerOptions } from '../../src/server/broker.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { freePort } from '../helpers/redis-server.js'

type Patch = Parameters<typeof testConfig>[0]

/** A response of the listening broker, its body parsed when it is JSON. */
export interface DevResponse { status: number, json: any, headers: Headers }

export interface DevBroker {
  broker: Broker
  config: BrokerConfig
  base: string
  /** A request to the listening broker; the body is parsed when it is JSON; `timeoutMs` aborts it (the test fails, never hangs). */
  call (method: string, path: string, body?: unknown, headers?: Record<string, string>, timeoutMs?: number): Promise<DevResponse>
  /** POSTs a command as `clientId`. */
  post (type: string, body: unknown, clientId?: keyof typeof KEYS): Promise<any>
  /** Answers the first destination of an accepted command through the public device API. */
  answer (accepted: any, status?: 'OK' | 'REJECTED', response?: unknown): Promise<number>
}

/** Starts a broker (dev on, dev sink on, HTTP on 127.0.0.1) whose clients' callback-url is its own dev sink. */
export async function startDevBroker (
  t: Test,
  patch: Patch = {},
  options: BrokerOptions = {},
  clients?: (sink: string) => ClientConfig[]
): Promise<DevBroker> {
  const port = await freePort()
  const sink = `http://127.0.0.1:${port}/hermod/dev`
  const base = testConfig({ broker: { dev: { enabled: true }, devSink: true } })
  const dev = { ...base.broker.dev, enabled: true, ...patch.broker?.dev }
  const allowedClients = clients?.(sink) ?? testClients(sink)
  const config = testConfig({ ...patch, broker: { ...base.broker, ...patch.broker, dev }, allowedClients } as Patch)
  const broker = await createBroker(config, options)
  t.teardown(() => broker.close())
  await broker.app.listen({ port, host: '127.0.0.1' })
  broker.start()
  const url = `http://127.0.0.1:${port}`
  const call: DevBroker['call'] = async (method, path, body, headers = {}, timeoutMs) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = text }
    return { status: res.status, json, headers: res.headers }
  }
  return {
    broker,
    config,
    base: url,
    call,
    async post (type, body, clientId = 'prime') {
      return (await call('POST', `/hermod/rest/command/${type}`, body, { 'x-api-key': apiKeyHeader(clientId, KEYS[clientId]) })).json
    },
    async answer (accepted, status = 'OK', response = { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' }) {
      const d = accepted.destinations[0]
      return (await call('POST', `/hermod/rest/ms/${d.bid}/${d.mid}`, { status, response })).status
    }
  }
}
