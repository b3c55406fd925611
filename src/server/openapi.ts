// The OpenAPI document's frame (info, security schemes, tags) and what every operation can answer besides its own statuses.
import type { SwaggerOptions } from '@fastify/swagger'
import type { FastifySchema } from 'fastify'
import type { BrokerConfig } from '../config/types.js'
import { VERSION } from '../version.js'
import { errorResponse } from './routes/schemas.js'

type Responses = Record<string, unknown>
type Security = Array<Record<string, string[]>>
type DocumentedSchema = FastifySchema & { hide?: boolean, operationId?: string, security?: Security, response?: Responses }

/** Methods whose body Fastify parses (POST, PUT, PATCH; DELETE when it carries one): they may answer 400, 413 and 415 for it. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * What any operation may answer before or beside its handler: the parser's and the router's refusals (written by
 * clientErrorHandler and frameworkErrors), the body parser's, load shedding and shutting down. All HermodError bodies.
 */
export function commonResponses (method: string, url: string): Responses {
  const common: Responses = {
    400: errorResponse(400, 'HERMOD_INVALID_REQUEST: a malformed URL, request line or header (or Host missing)', 'HERMOD_INVALID_REQUEST', 'The request is malformed'),
    408: errorResponse(408, 'HERMOD_REQUEST_TIMEOUT: the request was not received in time; the connection closes'),
    417: errorResponse(417, 'HERMOD_EXPECTATION_FAILED: an Expect header other than 100-continue', 'HERMOD_EXPECTATION_FAILED', 'Only Expect: 100-continue is supported'),
    431: errorResponse(431, 'HERMOD_HEADERS_TOO_LARGE: the request line and headers exceed 16 KiB', 'HERMOD_HEADERS_TOO_LARGE', 'The request headers are too large'),
    503: errorResponse(503, 'HERMOD_OVERLOADED (load shed), HERMOD_TOO_MANY_CONNECTIONS (server.max-connections[-per-address]) or ' +
      'HERMOD_SHUTTING_DOWN, with Retry-After: try again, another instance if there is one',
    'HERMOD_OVERLOADED', 'The broker is overloaded; try again shortly')
  }
  if (url.includes(':')) common[414] = errorResponse(414, 'HERMOD_URI_TOO_LONG: a path parameter over 100 characters', 'HERMOD_URI_TOO_LONG', 'A path segment is longer than 100 characters')
  if (BODY_METHODS.has(method)) {
    common[400] = errorResponse(400, 'HERMOD_INVALID_REQUEST: a malformed URL, request line or header (or Host missing); HERMOD_INVALID_JSON: the body is not JSON',
      'HERMOD_INVALID_JSON', 'The body is not valid JSON')
    common[413] = errorResponse(413, 'HERMOD_PAYLOAD_TOO_LARGE: the body exceeds broker.commands.body-limit')
    common[415] = errorResponse(415, 'HERMOD_UNSUPPORTED_MEDIA_TYPE: a body that is not application/json')
  }
  return common
}

/** A route's own response for a status, followed by what the common one adds (a copy: the route's schema stays as it is). */
function mergedResponse (own: unknown, common: unknown): unknown {
  const ownDescription = (own as { description?: unknown }).description
  const commonDescription = (common as { description?: unknown } | undefined)?.description
  if (typeof ownDescription !== 'string' || typeof commonDescription !== 'string') return own
  return { ...(own as object), description: `${ownDescription}. Also ${commonDescription}` }
}

/** The operationId of a route without one: `GET /dev/api/commands/:commandId` is getDevApiCommandsByCommandId */
export function derivedOperationId (method: string, url: string, contextPath: string): string {
  const words = url.slice(contextPath.length).split(/[/.\-_]/).filter((w) => w !== '')
    .map((w) => w.startsWith(':') ? `By${w.slice(1, 2).toUpperCase()}${w.slice(2)}` : `${w.slice(0, 1).toUpperCase()}${w.slice(1)}`)
  return `${method.toLowerCase()}${words.join('')}`
}

/**
 * The document-only additions to a route's schema: an operationId and `security` where the route names none (dev routes:
 * loopback, or Basic with broker.dev credentials), and the common responses merged under the route's own. Validation
 * and serialization use the route's schema untouched.
 */
export function documentRoute (
  config: BrokerConfig, schema: DocumentedSchema | undefined, url: string, method: string, prefix: string
): DocumentedSchema {
  const contextPath = config.server.contextPath
  const own = schema ?? {}
  const dev = prefix.startsWith(`${contextPath}/dev`)
  const devSecurity: Security = config.broker.dev.credentials === undefined ? [] : [{}, { devBasic: [] }]
  const response: Responses = { ...commonResponses(method, url) }
  for (const [status, entry] of Object.entries(own.response ?? {})) response[status] = mergedResponse(entry, response[status])
  return {
    ...own,
    operationId: own.operationId ?? derivedOperationId(method, url, contextPath),
    security: own.security ?? (dev ? devSecurity : []),
    response
  }
}

/** @fastify/swagger's options for the broker: OpenAPI 3.0.3, shared schemas as components, every route documented by documentRoute. */
export function swaggerOptions (config: BrokerConfig): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'hermod-broker',
        version: VERSION,
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
        description: 'A Hermod-compatible messaging broker. Server systems post commands with X-Api-Key; devices read and answer them at the box URLs; the broker calls the server system back at {callback-url}/callback/{type}. Every error is a HermodError body with a stable HERMOD_* code.'
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'base64(clientId ":" key), one entry of allowed-clients' },
          adminBasic: { type: 'http', scheme: 'basic', description: 'broker.admin credentials (without them: loopback callers only)' },
          devBasic: { type: 'http', scheme: 'basic', description: 'broker.dev credentials, for callers other than loopback' }
        }
      },
      tags: [
        { name: 'server system', description: 'Hermod\'s API for PRIME, HAG and other integrators' },
        { name: 'device', description: 'The mobile / desktop app side' },
        { name: 'operator', description: 'Client generation and dead letters' },
        { name: 'operations', description: 'Health and metrics' },
        { name: 'development', description: 'The dev surface under {context-path}/dev/ (broker.dev.enabled): delivery log, callbacks/wait, listings, clock, dev sink, the console\'s feed and tools' }
      ]
    },
    refResolver: { buildLocalReference: (json) => String(json.$id) },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method)
      if ((schema as DocumentedSchema | undefined)?.hide === true) return { schema, url }
      return { schema: documentRoute(config, schema as DocumentedSchema | undefined, url, method, (route as { prefix?: string }).prefix ?? ''), url }
    }
  }
}
