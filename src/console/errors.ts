// The console's dev API errors: a stable HERMOD_* code and one status each (@fastify/error).
import createError from '@fastify/error'

export const HERMOD_CALLBACK_NOT_LOGGED = createError('HERMOD_CALLBACK_NOT_LOGGED', 'No such callback attempt in the delivery log', 404)
export const HERMOD_DEAD_LETTER_NOT_FOUND = createError('HERMOD_DEAD_LETTER_NOT_FOUND', 'No such dead letter', 404)
export const HERMOD_TOO_MANY_STREAMS = createError('HERMOD_TOO_MANY_STREAMS', 'This instance holds %s event streams already; close a console', 503)
export const HERMOD_RESEND_UNAVAILABLE = createError('HERMOD_RESEND_UNAVAILABLE', 'This instance delivers no callbacks', 409)
