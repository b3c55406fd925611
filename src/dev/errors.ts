// The dev API's HTTP errors: a stable HERMOD_* code and one status each (@fastify/error).
import createError from '@fastify/error'

export const HERMOD_WAIT_TIMEOUT = createError('HERMOD_WAIT_TIMEOUT', 'No matching callback attempt within %s s', 408)
export const HERMOD_DEV_STORE_UNSUPPORTED = createError('HERMOD_DEV_STORE_UNSUPPORTED', '%s works on the embedded (memory) store only', 409)
export const HERMOD_DEV_COMMAND_NOT_FOUND = createError('HERMOD_DEV_COMMAND_NOT_FOUND', 'No such command', 404)
