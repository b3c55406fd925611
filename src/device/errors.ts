// The HTTP errors of the device routes (@fastify/error, HERMOD_* codes).
import createError from '@fastify/error'

export const HERMOD_DEVICE_PROFILE_NOT_FOUND = createError('HERMOD_DEVICE_PROFILE_NOT_FOUND', 'No device profile "%s"', 404)
