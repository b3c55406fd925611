// File paths in the config resolve like a Hermod install: working directory, config directory, its parent.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfiguredPath } from '../../src/config/paths.js'

t.test('resolution order: working directory, then the config file directory, then its parent', async t => {
  const root = t.testdir({
    work: { 'here.pem': '' },
    install: { config: { 'application.yml': '', 'beside.pem': '' }, certificates: { 'bundle.p12': '' } }
  })
  const configFile = join(root, 'install', 'config', 'application.yml')
  const cwd = join(root, 'work')
  t.same(resolveConfiguredPath('here.pem', cwd, configFile), { path: join(cwd, 'here.pem') })
  t.same(resolveConfiguredPath('beside.pem', cwd, configFile), { path: join(root, 'install', 'config', 'beside.pem') })
  t.same(resolveConfiguredPath('certificates/bundle.p12', cwd, configFile), { path: join(root, 'install', 'certificates', 'bundle.p12') })
  t.same(resolveConfiguredPath('file:certificates/bundle.p12', cwd, configFile), { path: join(root, 'install', 'certificates', 'bundle.p12') }, "Spring's file: prefix")
  t.same(resolveConfiguredPath(join(root, 'work', 'here.pem'), '/', configFile), { path: join(cwd, 'here.pem') }, 'absolute stays absolute')
  writeFileSync(join(cwd, 'beside.pem'), '')
  t.same(resolveConfiguredPath('beside.pem', cwd, configFile), { path: join(cwd, 'beside.pem') }, 'the working directory wins when both exist')
})

t.test('a file found nowhere keeps the working-directory path and lists what was tried', async t => {
  const root = t.testdir({ config: { 'application.yml': '' } })
  t.same(resolveConfiguredPath('missing.p12', '/srv', join(root, 'config', 'application.yml')), {
    path: '/srv/missing.p12',
    tried: ['/srv/missing.p12', join(root, 'config', 'missing.p12'), join(root, 'missing.p12')]
  })
  t.same(resolveConfiguredPath('missing.p12', '/srv'), { path: '/srv/missing.p12', tried: ['/srv/missing.p12'] }, 'no config file: the working directory only')
})

t.test('every path setting is resolved by loadConfig', async t => {
  const root = t.testdir({
    config: {
      'application.yml': [
        'server:',
        '  ssl:',
        '    certificate: certificates/cert.pem',
        '    certificate-private-key: certificates/key.pem',
        '    client-auth: want',
        '    trust-certificate: clients-ca.pem',
        'broker:',
        '  callbacks:',
        '    trust-store: certificates/callback-ca.p12',
        ''
      ].join('\n'),
      'clients-ca.pem': ''
    }
  })
  mkdirSync(join(root, 'certificates'))
  for (const name of ['cert.pem', 'key.pem', 'callback-ca.p12']) writeFileSync(join(root, 'certificates', name), '')
  const { config, notices } = await loadConfig({ env: {}, cwd: root })
  t.equal(config.server.ssl.certificate, join(root, 'certificates', 'cert.pem'))
  t.equal(config.server.ssl.certificatePrivateKey, join(root, 'certificates', 'key.pem'))
  t.equal(config.server.ssl.trustCertificate, join(root, 'config', 'clients-ca.pem'))
  t.equal(config.broker.callbacks.trustStore, join(root, 'certificates', 'callback-ca.p12'))
  t.same(notices.filter(n => n.includes('not found')), [])
})
