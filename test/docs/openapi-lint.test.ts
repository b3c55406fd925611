// The served OpenAPI document lints clean with Redocly's recommended rules (dev on and off), and its examples are the public Hermod bodies.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core'
import type { BrokerConfig } from '../../src/config/types.js'
import { createBroker } from '../../src/server/broker.js'
import { COMMAND_EXAMPLES } from '../../src/server/routes/command-examples.js'
import { testConfig } from '../helpers/config.js'

/** The document a listening broker on `config` serves at {context-path}/v3/api-docs. */
async function servedDocument (t: Test, config: BrokerConfig): Promise<string> {
  const broker = await createBroker(config)
  t.teardown(() => broker.close())
  await broker.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = broker.app.server.address() as AddressInfo
  const res = await fetch(`http://127.0.0.1:${port}${config.server.contextPath}/v3/api-docs`)
  t.equal(res.status, 200)
  return await res.text()
}

const describe = (p: NormalizedProblem): string => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`

async function lintsClean (t: Test, config: BrokerConfig): Promise<any> {
  const source = await servedDocument(t, config)
  const problems = await lintFromString({ source, absoluteRef: 'api-docs.json', config: await createConfig({ extends: ['recommended'] }) })
  t.same(problems.filter((p) => p.severity === 'error').map(describe), [], 'no errors')
  t.same(problems.filter((p) => p.severity === 'warn').map(describe), [], 'no warnings')
  return JSON.parse(source)
}

type Operation = { responses: Record<string, { description: string, content?: Record<string, unknown> }>, requestBody?: any }
const operations = (doc: any): Array<[string, Operation]> =>
  Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as [string, Operation]))

t.test('dev on (dev sink too): the recommended rules find nothing', async (t) => {
  const doc = await lintsClean(t, testConfig({ broker: { dev: { enabled: true }, devSink: true } }))
  t.ok(doc.paths['/hermod/dev/api/commands'], 'the dev routes are in it')
  for (const [name, op] of operations(doc)) {
    for (const [status, response] of Object.entries(op.responses)) {
      t.not(response.description, 'Default Response', `${name} ${status} is described`)
      if (Number(status) >= 400) t.same(Object.keys(response.content ?? {}), ['application/json'], `${name} ${status}: errors are JSON`)
    }
  }
})

t.test('dev off, admin credentials set: the recommended rules find nothing, and no dev route is listed', async (t) => {
  const doc = await lintsClean(t, testConfig({ broker: { admin: { username: 'ops', password: 'secret-ops-password' } } }))
  t.notOk(Object.keys(doc.paths).some((p) => p.includes('/dev/')))
  t.same(doc.paths['/hermod/admin/callbacks/dead-letters'].get.security, [{ adminBasic: [] }])
  t.same(doc.paths['/hermod/actuator/health'].get.security, [], 'public operations say so')
})

t.test('the five command types are literal paths, each with its example; a 200 and every error carry examples', async (t) => {
  const doc = await lintsClean(t, testConfig())
  for (const type of ['provision', 'certificate', 'authenticate', 'sign', 'ping']) {
    const op = doc.paths[`/hermod/rest/command/${type}`]?.post
    t.ok(op, `POST /command/${type}`)
    t.same(op.requestBody.content['application/json'].example, COMMAND_EXAMPLES[type], `${type}: the Try it out body`)
    t.equal(op.responses[200].content['application/json'].example.commandType, type.toUpperCase())
    t.equal(op.responses[401].content['application/json'].example.code, 'HERMOD_UNAUTHORIZED')
  }
  t.notOk(doc.paths['/hermod/rest/command/{type}'])
  const codes = new Set(operations(doc).flatMap(([, op]) => Object.entries(op.responses)
    .filter(([status]) => Number(status) >= 400).map(([, r]) => (r.content?.['application/json'] as any)?.example?.code)))
  t.ok(codes.size >= 15, `the error examples name the codes of each case (${codes.size} different codes), not one example everywhere`)
  t.equal(doc.paths['/hermod/rest/util/generateclient/{clientId}'].get.responses[200].content['text/plain'].schema.type, 'string')
})

t.test('the sign, provision and authenticate examples are the public Hermod bodies of examples/hermod/, unchanged', async (t) => {
  for (const [type, file] of [['sign', 'sign-command.json'], ['provision', 'provision-command.json'], ['authenticate', 'authenticate-command.json']] as const) {
    t.same(COMMAND_EXAMPLES[type], JSON.parse(readFileSync(new URL(`../../examples/hermod/${file}`, import.meta.url), 'utf8')), file)
  }
})
