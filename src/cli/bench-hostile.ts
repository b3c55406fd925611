// `bench --scenario hostile`: its own options, and the run that prints the table and answers the exit code.
import { writeFileSync } from 'node:fs'
import { HOSTILE_CASE_NAMES, hostileTable, runHostile, type HostileOptions } from '../bench/hostile/suite.js'

/** The case names, a few to a line, indented under the option. */
const caseList = HOSTILE_CASE_NAMES.reduce<string[]>((lines, name) => {
  const last = lines.length - 1
  if (last >= 0 && lines[last]!.length + name.length < 80) lines[last] += `, ${name}`
  else lines.push(name)
  return lines
}, []).map((line) => `                 ${line}`).join(',\n')

export const HOSTILE_HELP = `  --scenario hostile (with --url and --api-key): bounded hostile cases, a pass/fail table, exit 1 if one fails:
${caseList}
    --other-api-key KEY  a client of another group (cross-group-ids; else skipped)
    --cut-within S       a dripping client must be cut within S seconds (default 45: the broker's own
                         defaults cut dripped headers after 10 s and a dripped body after 30 s, checked every 1 s)
    --herd N             long polls on one box, woken by one message (default 1000)
    --flood N            connections opened at once from this address (default 256)
    --rate-limit N       the target's per-client budget: a 429 is expected within N+1 requests
                         (default: probe 200 and skip the case if none comes)
    --body-limit BYTES   the target's broker.commands.body-limit (default 1048576)
    --cases a,b          only these cases`

/** Values of the hostile options as parseArgs gives them. */
export interface HostileArgValues {
  'other-api-key'?: string
  'cut-within'?: string
  herd?: string
  flood?: string
  'rate-limit'?: string
  'body-limit'?: string
  cases?: string
}

export const HOSTILE_ARG_OPTIONS = {
  'other-api-key': { type: 'string' },
  'cut-within': { type: 'string' },
  herd: { type: 'string' },
  flood: { type: 'string' },
  'rate-limit': { type: 'string' },
  'body-limit': { type: 'string' },
  cases: { type: 'string' }
} as const

/**
 * The hostile options from the parsed values and the target; `positive` checks a number the way the
 * other bench options are checked (throws the bench's usage error).
 */
export function hostileOptions (
  values: HostileArgValues,
  target: { origin: string, prefix: string, apiKey: string },
  positive: (name: string, text: string | undefined, fallback: number, integer?: boolean) => number,
  usage: (message: string) => Error
): HostileOptions {
  const cases = values.cases?.split(',').map((c) => c.trim()).filter((c) => c !== '')
  const unknown = cases?.filter((c) => !HOSTILE_CASE_NAMES.includes(c)) ?? []
  if (unknown.length > 0) throw usage(`--cases: unknown ${unknown.join(', ')} (known: ${HOSTILE_CASE_NAMES.join(', ')})`)
  const herd = positive('herd', values.herd, 1000, true)
  const flood = positive('flood', values.flood, 256, true)
  if (herd > 10_000 || flood > 10_000) throw usage('--herd and --flood are at most 10000')
  return {
    ...target,
    ...(values['other-api-key'] === undefined ? {} : { otherApiKey: values['other-api-key'] }),
    cutWithinMs: positive('cut-within', values['cut-within'], 45) * 1000,
    herd,
    flood,
    ...(values['rate-limit'] === undefined ? {} : { rateLimit: positive('rate-limit', values['rate-limit'], 0, true) }),
    bodyLimit: positive('body-limit', values['body-limit'], 1_048_576, true),
    ...(cases === undefined ? {} : { cases })
  }
}

/** Runs the suite, prints the table (rows on stderr as they finish), writes the JSON; 0 if no case failed, else 1. */
export async function runHostileBench (options: HostileOptions, json?: string): Promise<number> {
  const results = await runHostile(options, (r) => { process.stderr.write(`hostile: ${r.name} ${r.verdict}\n`) })
  process.stdout.write(hostileTable(results))
  if (json !== undefined) writeFileSync(json, `${JSON.stringify({ scenario: 'hostile', results }, null, 2)}\n`)
  return results.some((r) => r.verdict === 'fail') ? 1 : 0
}
