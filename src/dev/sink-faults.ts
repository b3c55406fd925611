// The dev callback sink's fault modes, set at run time: a status, a delay, random 5xx or 410, or a hang.

/** What the sink does to the callbacks it receives. Every field is optional; none set: 200 at once. */
export interface SinkFaults {
  /** Answer this status instead of 200. */
  status?: number
  /** Wait this long before answering, ms. */
  delayMs?: number
  /** Probability (0..1) of answering 503 instead. */
  serverErrorProbability?: number
  /** Probability (0..1) of answering 410 (the server system forgot the command: no retry). */
  goneProbability?: number
  /** Never answer (until the faults are cleared, the caller gives up or the broker stops). */
  hang?: boolean
}

/** The JSON schema of SinkFaults (route body and OpenAPI). */
export const sinkFaultsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'integer', minimum: 200, maximum: 599 },
    delayMs: { type: 'integer', minimum: 0, maximum: 600000 },
    serverErrorProbability: { type: 'number', minimum: 0, maximum: 1 },
    goneProbability: { type: 'number', minimum: 0, maximum: 1 },
    hang: { type: 'boolean' }
  }
} as const

/** The status the sink answers one callback with under `faults`, or `hang`. */
export function faultStatus (faults: SinkFaults, random: () => number = Math.random): number | 'hang' {
  if (faults.hang === true) return 'hang'
  const roll = random()
  const serverError = faults.serverErrorProbability ?? 0
  if (roll < serverError) return 503
  if (roll < serverError + (faults.goneProbability ?? 0)) return 410
  return faults.status ?? 200
}
