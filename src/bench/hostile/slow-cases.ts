// Slow and many clients: dripped headers, a dripped body, many connections from one address at once.
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { answerProblem, watchSocket, type RawOutcome } from './http.js'
import type { CaseContext, CaseOutcome, HostileCase } from './suite.js'

/** A drip writes this often, ms: well under any idle timeout, so only a whole-request deadline can cut it. */
const DRIP_EVERY_MS = 250

function dripVerdict (what: string, outcome: RawOutcome, cutWithinMs: number): CaseOutcome {
  const limit = `${(cutWithinMs / 1000).toFixed(1)} s`
  if (outcome.closedAfterMs === undefined) return { verdict: 'fail', detail: `${what}: still open after ${limit}` }
  const seconds = (outcome.closedAfterMs / 1000).toFixed(1)
  const answer = outcome.status === 0 ? 'closed without an answer' : `answered ${outcome.status}`
  return { verdict: 'pass', detail: `${what}: cut after ${seconds} s (${answer}; limit ${limit})` }
}

async function drip (context: CaseContext, head: string, step: (n: number) => string): Promise<RawOutcome> {
  const socket = await context.http.openSocket()
  socket.write(head)
  // Our own deadline: a little past the limit, so the verdict can say the server did not cut in time.
  const ticks = { everyMs: DRIP_EVERY_MS, run: (n: number) => socket.write(step(n)) }
  const outcome = await watchSocket(socket, context.options.cutWithinMs + 2_000, ticks)
  if (outcome.status !== 0) context.http.check('dripped request', outcome.status, outcome.body)
  if (outcome.closedAfterMs !== undefined && outcome.closedAfterMs > context.options.cutWithinMs) delete outcome.closedAfterMs
  return outcome
}

export const drippedHeaders: HostileCase = {
  name: 'dripped-headers',
  async run (context: CaseContext): Promise<CaseOutcome> {
    const { prefix } = context.options
    const head = `GET ${prefix}/ms/${randomUUID()}?token=x HTTP/1.1\r\nHost: ${context.http.origin.host}\r\n`
    const outcome = await drip(context, head, (n) => `X-Drip-${n}: x\r\n`)
    return dripVerdict('a header line every 250 ms', outcome, context.options.cutWithinMs)
  }
}

export const drippedBody: HostileCase = {
  name: 'dripped-body',
  async run (context: CaseContext): Promise<CaseOutcome> {
    const { prefix, apiKey } = context.options
    // A length the broker accepts (under its body limit), so only the deadline can end the request.
    const length = Math.min(10_000, context.options.bodyLimit - 1)
    const head = `POST ${prefix}/command/ping HTTP/1.1\r\nHost: ${context.http.origin.host}\r\nX-Api-Key: ${apiKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"x":"`
    const outcome = await drip(context, head, () => 'a')
    return dripVerdict('a body byte every 250 ms', outcome, context.options.cutWithinMs)
  }
}

export const manyConnections: HostileCase = {
  name: 'many-connections',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    // Connect them all first, then send on all at once: the broker holds `flood` connections from one address.
    const sockets = await Promise.all(Array.from({ length: options.flood }, async () => await http.openSocket().catch(() => undefined)))
    const open = sockets.filter((s): s is Socket => s !== undefined)
    const outcomes = await Promise.all(open.map(async (socket) => {
      socket.write(`GET ${options.prefix}/ms/${randomUUID()}?token=x HTTP/1.1\r\nHost: ${http.origin.host}\r\nConnection: close\r\n\r\n`)
      return await watchSocket(socket, 15_000)
    }))
    let served = 0
    let cut = options.flood - open.length
    let hung = 0
    const statuses = new Set<number>()
    for (const outcome of outcomes) {
      if (outcome.status !== 0) {
        served++
        statuses.add(outcome.status)
        http.check('flood request', outcome.status, outcome.body)
        if (answerProblem(outcome.status, outcome.body) === undefined && outcome.status < 400) http.problems.push(`flood request: ${outcome.status} for a box that does not exist`)
      } else if (outcome.closedAfterMs === undefined) {
        hung++
      } else {
        cut++
      }
    }
    // Afterwards one more request must be answered at once.
    const after = await http.send('GET', `${options.prefix}/ms/${randomUUID()}?token=x`, { timeoutMs: 10_000 })
    const detail = `${options.flood} at once: ${served} served (${[...statuses].sort().join('/') || 'none'}), ${cut} refused or cut, ${hung} unanswered in 15 s; then ${after.status}`
    if (hung > 0 || served === 0) return { verdict: 'fail', detail }
    return { verdict: 'pass', detail }
  }
}
