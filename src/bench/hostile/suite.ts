// `bench --scenario hostile`: bounded hostile cases against a running broker, one verdict each, printed as a table.
import { HostileHttp } from './http.js'
import { badJson, malformedApiKeys, oversizedBodies, unknownRoutes } from './input-cases.js'
import { drippedBody, drippedHeaders, manyConnections } from './slow-cases.js'
import { crossGroupIds, longPollHerd, rateLimitReached, stillServes } from './flow-cases.js'

/** Where the broker is and how hard to push it. */
export interface HostileOptions {
  /** `https://127.0.0.1:20400` */
  origin: string
  /** context-path + uri-base, e.g. `/hermod/rest` */
  prefix: string
  apiKey: string
  /** A client of another group (the cross-group case needs it; without it the case is skipped). */
  otherApiKey?: string
  /** A dripping client must be cut within this long, ms. */
  cutWithinMs: number
  /** Long polls of the herd. */
  herd: number
  /** Connections opened at once from this address. */
  flood: number
  /** The target's per-client budget, when it has one: the case then expects a 429 within it. */
  rateLimit?: number
  /** The target's broker.commands.body-limit, bytes. */
  bodyLimit: number
  /** Only these cases (names); default all. */
  cases?: string[]
}

export type Verdict = 'pass' | 'fail' | 'skip'

/** What a case found. */
export interface CaseOutcome {
  verdict: Verdict
  detail: string
}

/** One case's row of the result. */
export interface CaseResult extends CaseOutcome {
  name: string
  ms: number
}

/** What a case runs with: the options and its own HTTP client, whose answers are all checked. */
export interface CaseContext {
  options: HostileOptions
  http: HostileHttp
}

export interface HostileCase {
  name: string
  run: (context: CaseContext) => Promise<CaseOutcome>
}

/**
 * The cases in the order they run: input first, then slow clients and load, then the rate limit
 * (it spends the client's budget), and last whether the broker still serves.
 */
export const HOSTILE_CASES: HostileCase[] = [
  malformedApiKeys, oversizedBodies, crossGroupIds, unknownRoutes, badJson,
  drippedHeaders, drippedBody, manyConnections, longPollHerd, rateLimitReached, stillServes
]

export const HOSTILE_CASE_NAMES = HOSTILE_CASES.map((c) => c.name)

/** Runs one case: a thrown error or an answer that is no HERMOD_* JSON (or a 5xx) fails it. */
async function runCase (hostileCase: HostileCase, options: HostileOptions): Promise<CaseResult> {
  const http = new HostileHttp(new URL(options.origin))
  const started = Date.now()
  let outcome: CaseOutcome
  try {
    outcome = await hostileCase.run({ options, http })
  } catch (err) {
    outcome = { verdict: 'fail', detail: `error: ${(err as Error).message.slice(0, 160)}` }
  } finally {
    http.close()
  }
  if (http.problems.length > 0) {
    outcome = { verdict: 'fail', detail: `${outcome.detail}; bad answers: ${http.problems.slice(0, 3).join('; ')}` }
  }
  return { name: hostileCase.name, ...outcome, ms: Date.now() - started }
}

/** Runs the selected cases one after the other (each is bounded) and returns their rows. */
export async function runHostile (options: HostileOptions, onResult?: (result: CaseResult) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = []
  for (const hostileCase of HOSTILE_CASES) {
    if (options.cases !== undefined && !options.cases.includes(hostileCase.name)) continue
    const result = await runCase(hostileCase, options)
    onResult?.(result)
    results.push(result)
  }
  return results
}

/** The result as a text table with a summary line. */
export function hostileTable (results: CaseResult[]): string {
  const nameWidth = Math.max(4, ...results.map((r) => r.name.length))
  const lines = [`${'case'.padEnd(nameWidth)}  result  time     detail`]
  for (const r of results) {
    lines.push(`${r.name.padEnd(nameWidth)}  ${r.verdict.padEnd(6)}  ${`${(r.ms / 1000).toFixed(1)} s`.padStart(7)}  ${r.detail}`)
  }
  const count = (v: Verdict): number => results.filter((r) => r.verdict === v).length
  lines.push(`hostile: ${results.length} cases, ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`)
  return `${lines.join('\n')}\n`
}
