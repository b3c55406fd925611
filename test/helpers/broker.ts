// Builds a broker for route tests: memory store, a manual clock, inject helpers with API keys.
import type { Test } from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import type { BrokerConfig } from '../../src/config/types.js'
import { ManualClock } from '../../src/mailbox/clock.js'
import { createBroker, type Broker, type BrokerOptions } from '../../src/server/broker.js'
import { KEYS, testConfig } from './config.js'

export interface TestBroker {
  broker: Broker
  clock: ManualClock
  config: BrokerConfig
  /** The X-Api-Key header of a test client. */
  key (clientId: keyof typeof KEYS): string
  /** POSTs a command as `clientId` and returns the parsed response. */
  post (
    type: string, body: unknown, clientId?: keyof typeof KEYS
  ): Promise<{ statusCode: number, json: any, headers: Record<string, unknown> }>
}

export async function buildTestBroker (t: Test, config: BrokerConfig = testConfig(), options: BrokerOptions = {}): Promise<TestBroker> {
  const clock = new ManualClock(Date.now())
  const broker = await createBroker(config, { clock, ...options })
  t.teardown(() => broker.close())
  await broker.app.ready()
  const key = (clientId: keyof typeof KEYS): string => apiKeyHeader(clientId, KEYS[clientId])
  return {
    broker,
    clock,
    config,
    key,
    async post (type, body, clientId = 'prime') {
      const res = await broker.app.inject({
        method: 'POST',
        url: `${config.server.contextPath}${config.uriBase}/command/${type}`,
        headers: { 'x-api-key': key(clientId), 'content-type': 'application/json' },
        payload: typeof body === 'string' ? body : JSON.stringify(body)
      })
      return { statusCode: res.statusCode, json: res.body.length > 0 ? JSON.parse(res.body) : undefined, headers: res.headers }
    }
  }
}
