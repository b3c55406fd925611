// A listening broker for the fuzzer (dev surface and admin credentials on), its OpenAPI operations, and a few real commands.
import type { Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import type { BrokerConfig } from '../../src/config/types.js'
import { createBroker } from '../../src/server/broker.js'
import { KEYS, testConfig } from '../helpers/config.js'
import { ADMIN, KnownIds, problemsOf, send, toHttp } from './fuzz-client.js'
import { operationsOf, type Operation } from './openapi-operations.js'
import type { FuzzRequest } from './request-arbitraries.js'

export interface FuzzTarget {
  pool: Pool
  operations: Operation[]
  known: KnownIds
  /** Sends `request` and returns what is wrong with the answer (empty: as documented); learns the ids of accepted commands. */
  check (request: FuzzRequest): Promise<{ status: number, problems: string[], summary: string }>
}

/** testConfig with the dev surface, the dev sink and admin credentials on. */
export const fuzzConfig = (patch: Parameters<typeof testConfig>[0] = {}): BrokerConfig =>
  testConfig({ ...patch, broker: { ...patch.broker, dev: { enabled: true }, devSink: true, maxLongPollSeconds: 5, admin: ADMIN } })

/** Posts a few commands through the API, so that generated requests can name real commands, boxes and messages. */
async function seedCommands (pool: Pool, known: KnownIds): Promise<void> {
  for (const [type, client, to] of [['sign', 'prime', ['@tmp']], ['authenticate', 'hag', ['john.doe', '@tmp']], ['ping', 'other', ['@tmp']], ['provision', 'prime', ['jane']]] as const) {
    const res = await pool.request({
      method: 'POST',
      path: `/hermod/rest/command/${type}`,
      headers: { 'x-api-key': apiKeyHeader(client, KEYS[client]), 'content-type': 'application/json' },
      body: JSON.stringify({ commandHeader: { lifespan: 600, timeout: 600, to } })
    })
    known.learn(await res.body.json() as Parameters<KnownIds['learn']>[0])
  }
}

/** Starts a broker on `config` (closed when `t` ends), reads its OpenAPI document and seeds a few commands. */
export async function startFuzzTarget (t: Test, config: BrokerConfig): Promise<FuzzTarget> {
  const broker = await createBroker(config)
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  broker.start()
  const { port } = broker.app.server.address() as AddressInfo
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 })
  t.teardown(() => pool.close())
  const operations = operationsOf(await (await pool.request({ method: 'GET', path: '/hermod/v3/api-docs' })).body.json())
  const byId = new Map(operations.map((op) => [op.operationId, op]))
  const known = new KnownIds()
  await seedCommands(pool, known)
  return {
    pool,
    operations,
    known,
    async check (request) {
      const operation = byId.get(request.operationId)
      if (operation === undefined) throw new Error(`no operation ${request.operationId} in the document`)
      const http = toHttp(request, operation, known)
      const answer = await send(pool, http)
      if (answer.status === 200 && /^post[A-Z][a-z]+Command$/.test(operation.operationId)) known.learn(JSON.parse(answer.text))
      return { status: answer.status, problems: problemsOf(operation, http, answer), summary: `${http.method} ${http.path} -> ${answer.status} ${answer.text.slice(0, 300)}` }
    }
  }
}
