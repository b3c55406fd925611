// The content provider's HTTP error: the device is told to retry; the command's state is untouched.
import createError from '@fastify/error'

/** Seconds a device is told to wait (Retry-After) after a content provider failure. */
export const CONTENT_RETRY_AFTER_SECONDS = 5

export const HERMOD_CONTENT_PROVIDER_FAILED = createError('HERMOD_CONTENT_PROVIDER_FAILED', 'The content provider of this command could not be reached or answered badly (%s); try again', 502)
