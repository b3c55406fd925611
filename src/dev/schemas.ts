// JSON schemas of the dev API (validation and the OpenAPI document).

const terminalStates = ['COMPLETED', 'REJECTED', 'TIMEOUT', 'CANCELLED']

/** One delivery log entry (DeliveryLogEntry). */
export const deliveryEntrySchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time', description: 'When the attempt started' },
    eventId: { type: 'string', description: 'The webhook-id' },
    commandId: { type: 'string' },
    clientId: { type: 'string' },
    commandType: { type: 'string' },
    state: { type: 'string', enum: terminalStates },
    externalId: { type: 'string' },
    attempt: { type: 'integer', description: '1-based' },
    url: { type: 'string', description: 'Without userinfo or query string' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'As sent; the Authorization credentials masked' },
    body: { type: 'string', description: 'The JSON body as sent' },
    bodyTruncated: { type: 'boolean' },
    outcome: { type: 'string', enum: ['delivered', 'retry', 'give-up'] },
    status: { type: 'integer' },
    durationMs: { type: 'number' },
    error: { type: 'string' },
    nextRetryAt: { type: 'string', format: 'date-time', description: 'When the next attempt is scheduled, if one follows' }
  },
  required: ['at', 'eventId', 'commandId', 'clientId', 'commandType', 'state', 'attempt', 'url', 'outcome', 'durationMs']
} as const

/** The query of the delivery log and of callbacks/wait. */
export const deliveryQueryProperties = {
  commandId: { type: 'string', maxLength: 20 },
  externalId: { type: 'string', maxLength: 1024 },
  state: { type: 'string', enum: terminalStates, description: 'The callback\'s terminal state' }
} as const

/** A command as the dev listing shows it (a peek: no state changes). */
export const listedCommandSchema = {
  type: 'object',
  properties: {
    commandId: { type: 'string' },
    commandType: { type: 'string' },
    state: { type: 'string', enum: ['IN_PROGRESS', ...terminalStates], description: 'As the status query would report it now (a due timeout shows as TIMEOUT)' },
    group: { type: 'string' },
    clientId: { type: 'string' },
    externalId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    timeoutAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    ageMs: { type: 'integer' },
    destinations: {
      type: 'array',
      items: {
        type: 'object',
        properties: { to: { type: 'string' }, bid: { type: 'string' }, mid: { type: 'string' }, token: { type: 'string' }, uri: { type: 'string' }, location: { type: 'string' }, personal: { type: 'string', description: 'personal:// deep link to the box' } }
      }
    },
    answeredBy: { type: 'integer' },
    response: { description: 'The device\'s response (COMPLETED / REJECTED)' },
    payload: { description: 'The command as posted, without commandHeader (peek only; absent once the command is decided: the stores drop payloads at the terminal step)' }
  }
} as const
