// `${server.port}` in a value is the effective setting (file, environment, --set), as in Spring; environment names stay environment names.
import t from 'tap'
import { loadYaml, problemsOf } from './yaml-fixture.js'

const CLIENT = (url: string): string => `allowed-clients:\n  - client-id: demo\n    key: k\n    group: demo\n    callback-url: ${url}\n`

t.test('${server.port} follows the file, SERVER_PORT and an override, highest first', async (t) => {
  const yaml = `server:\n  port: 20400\n${CLIENT('https://127.0.0.1:${server.port:1}/hermod/dev')}`
  const url = async (options: Parameters<typeof loadYaml>[2]): Promise<string | undefined> =>
    (await loadYaml(t, yaml, options)).config.allowedClients[0]!.callbackUrl
  t.equal(await url({}), 'https://127.0.0.1:20400/hermod/dev', 'the file\'s port')
  t.equal(await url({ env: { SERVER_PORT: '20401' } }), 'https://127.0.0.1:20401/hermod/dev', 'the environment\'s')
  t.equal(await url({ env: { SERVER_PORT: '20401' }, overrides: { 'server.port': '20402' } }), 'https://127.0.0.1:20402/hermod/dev', '--port / --set wins')
})

t.test('a setting reference: default when unset, placeholders inside it resolved, cycles and upper-case names left to the environment', async (t) => {
  const unset = await loadYaml(t, CLIENT('http://h:${server.port:7}/x'))
  t.equal(unset.config.allowedClients[0]!.callbackUrl, 'http://h:7/x', 'unset in the file: the placeholder\'s default')
  const nested = await loadYaml(t, `fqdn: \${HOST_NAME:box}\n${CLIENT('http://${fqdn}/x')}`, { env: { HOST_NAME: 'prime.local' } })
  t.equal(nested.config.allowedClients[0]!.callbackUrl, 'http://prime.local/x', 'the referenced value\'s own placeholder is resolved')
  const cycle = await problemsOf(loadYaml(t, 'fqdn: ${public-url}\npublic-url: ${fqdn}\n'))
  t.match(cycle.join('\n'), /placeholder/, 'a cycle is a missing value, not a hang')
  const upper = await loadYaml(t, `public-url: https://file.example/ms\n${CLIENT('${PUBLIC_URL:http://d}/x')}`, { env: {} })
  t.equal(upper.config.allowedClients[0]!.callbackUrl, 'http://d/x', 'PUBLIC_URL names an environment variable, not the public-url setting')
})
