// Basic auth (admin, and the dev surface for callers other than loopback): every refusal is 401 HERMOD_UNAUTHORIZED naming credentials.
import t from 'tap'
import { buildTestBroker } from '../helpers/broker.js'
import { testConfig } from '../helpers/config.js'

const basic = (userPassword: string): string => `Basic ${Buffer.from(userPassword).toString('base64')}`

t.test('a missing, malformed or wrong Basic Authorization is 401 HERMOD_UNAUTHORIZED "Missing or invalid credentials", with the challenge', async (t) => {
  const { broker } = await buildTestBroker(t, testConfig({
    broker: { admin: { username: 'ops', password: 'ops-password' }, dev: { enabled: true, credentials: { username: 'dev', password: 'dev-password' } } }
  }))
  const requests: Array<{ url: string, authorization: string | undefined, remoteAddress?: string }> = [
    ...[undefined, 'Basic', 'Basic !!!', basic('no-colon'), 'Bearer abc', basic('ops:wrong')]
      .map((authorization) => ({ url: '/hermod/admin/callbacks/dead-letters', authorization })),
    ...[undefined, 'Basic !!!', basic('dev:wrong')].map((authorization) => ({ url: '/hermod/dev/api/clock', authorization, remoteAddress: '192.0.2.7' }))
  ]
  for (const { url, authorization, remoteAddress } of requests) {
    const headers = authorization === undefined ? {} : { authorization }
    const res = await broker.app.inject({ url, ...(remoteAddress === undefined ? {} : { remoteAddress }), headers })
    t.equal(res.statusCode, 401, `${url} ${authorization ?? '(none)'}`)
    t.same(res.json(), { statusCode: 401, code: 'HERMOD_UNAUTHORIZED', error: 'Unauthorized', message: 'Missing or invalid credentials' })
    t.match(res.headers['www-authenticate'], /^Basic realm="hermod-broker (admin|dev)"/)
  }
  const ok = await broker.app.inject({ url: '/hermod/admin/callbacks/dead-letters', headers: { authorization: basic('ops:ops-password') } })
  t.equal(ok.statusCode, 200)
})

t.test('the X-Api-Key routes still say X-Api-Key', async (t) => {
  const { broker } = await buildTestBroker(t)
  const res = await broker.app.inject({ method: 'GET', url: '/hermod/rest/command/1', headers: { 'x-api-key': 'bm9wZTpub3Bl' } })
  t.same(res.json(), { statusCode: 401, code: 'HERMOD_UNAUTHORIZED', error: 'Unauthorized', message: 'Missing or invalid X-Api-Key' })
})
