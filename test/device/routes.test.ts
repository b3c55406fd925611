// The device's PEM downloads: the test CA and a profile's certificates, as registered under {context-path}/dev.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { DeviceDataDir } from '../../src/device/data-dir.js'
import { splitPem } from '../../src/device/pki.js'
import { registerDeviceRoutes } from '../../src/device/routes.js'
import { sharedSchemas } from '../../src/server/routes/schemas.js'

t.test('ca.pem is the data directory\'s CA; a profile\'s certificates chain to it; an unknown profile is a 404 with a stable code', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hermod-device-routes-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const dataDir = new DeviceDataDir(dir)
  const app = Fastify()
  t.teardown(() => app.close())
  // The broker's app holds the schemas the routes' error answers refer to (app.ts).
  for (const schema of sharedSchemas) app.addSchema(schema)
  await registerDeviceRoutes(app, '/hermod', dataDir)
  const ca = await app.inject({ url: '/hermod/dev/device/ca.pem' })
  t.equal(ca.statusCode, 200)
  t.match(ca.headers['content-type'], /application\/x-pem-file/)
  const caCert = new X509Certificate(ca.body)
  t.ok(caCert.ca)
  t.equal((await new DeviceDataDir(dir).ca()).certificatePem, ca.body, 'persisted: another process sees the same CA')
  t.equal((await app.inject({ url: '/hermod/dev/device/profiles/default/certificates.pem' })).statusCode, 404, 'not created by a download')
  const notFound = await app.inject({ url: '/hermod/dev/device/profiles/..%2Fx/certificates.pem' })
  t.match(notFound.json(), { statusCode: 404, code: 'HERMOD_DEVICE_PROFILE_NOT_FOUND' })
  await dataDir.open('default')
  const certificates = await app.inject({ url: '/hermod/dev/device/profiles/default/certificates.pem' })
  t.equal(certificates.statusCode, 200)
  const pems = splitPem(certificates.body)
  t.equal(pems.length, 3, 'attestation, test identity, then the CA once')
  for (const pem of pems.slice(0, 2)) t.ok(new X509Certificate(pem).verify(caCert.publicKey), 'issued by the CA')
})
