// The device's PEM downloads under {context-path}/dev/device/: the test CA and a profile's certificates.
import type { FastifyInstance } from 'fastify'
import { DeviceDataDir, PROFILE_NAME } from './data-dir.js'
import { HERMOD_DEVICE_PROFILE_NOT_FOUND } from './errors.js'
import { splitPem } from './pki.js'
import { errorResponse } from '../server/routes/schemas.js'

/** Options of `deviceRoutes`. */
export interface DeviceRoutesOptions {
  /** The data directory; default: a DeviceDataDir on $HERMOD_DEVICE_DIR, else ./.hermod/device. */
  dataDir?: DeviceDataDir
}

const PEM_TYPE = 'application/x-pem-file'
const pemResponse = { 200: { type: 'string', description: 'PEM certificates' } }
const tags = ['development']

/**
 * The routes, relative to where they are registered: `GET /device/ca.pem` and
 * `GET /device/profiles/{profile}/certificates.pem`. Register inside the dev scope (its access checks apply):
 * `app.register(deviceRoutes, { prefix: `${contextPath}/dev`, dataDir })`.
 */
export async function deviceRoutes (app: FastifyInstance, options: DeviceRoutesOptions): Promise<void> {
  const dataDir = options.dataDir ?? new DeviceDataDir()

  app.get('/device/ca.pem', {
    schema: { summary: 'The virtual device\'s test CA certificate: verify its CMS signatures, CSRs and JWS chains against it', tags, produces: [PEM_TYPE], response: pemResponse }
  }, async (_request, reply) => {
    const ca = await dataDir.ca()
    return await reply.type(PEM_TYPE).send(ca.certificatePem)
  })

  app.get<{ Params: { profile: string } }>('/device/profiles/:profile/certificates.pem', {
    schema: {
      summary: 'A device profile\'s certificates (attestation, test identity, provisioned keys, each with its chain), then its CA',
      tags,
      produces: [PEM_TYPE],
      params: { type: 'object', properties: { profile: { type: 'string', description: 'the profile name (`default`, or the CLI\'s)' } } },
      response: {
        ...pemResponse,
        404: errorResponse(404, 'HERMOD_DEVICE_PROFILE_NOT_FOUND: no profile of that name in the device data directory', 'HERMOD_DEVICE_PROFILE_NOT_FOUND', 'No device profile "x"')
      }
    }
  }, async (request, reply) => {
    const { profile } = request.params
    const pems = PROFILE_NAME.test(profile) ? await dataDir.pems(profile) : null
    if (pems === null) throw new HERMOD_DEVICE_PROFILE_NOT_FOUND(profile)
    const unique = new Set([...Object.values(pems.certificates).flatMap(splitPem), pems.ca])
    return await reply.type(PEM_TYPE).send([...unique].join(''))
  })
}

/** Registers `deviceRoutes` under `{contextPath}/dev` in `app` (call it inside the dev scope). */
export async function registerDeviceRoutes (app: FastifyInstance, contextPath: string, dataDir?: DeviceDataDir): Promise<void> {
  await app.register(deviceRoutes, { prefix: `${contextPath}/dev`, ...(dataDir === undefined ? {} : { dataDir }) })
}
