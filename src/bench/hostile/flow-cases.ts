// Hostile use of the real flow: other groups' ids, a herd of long polls on one box, the rate limit, and a round trip afterwards.
import { randomUUID } from 'node:crypto'
import { codeOf, type HostileHttp, type HostileResponse } from './http.js'
import type { CaseContext, CaseOutcome, HostileCase } from './suite.js'

/** Seconds a herd poll waits: the herd is woken long before, unless the broker misses the wake-up. */
const HERD_WAIT_SECONDS = 20

interface Posted { commandId: string, bid: string, mid: string, token: string }

/** Posts a ping as `apiKey`; undefined when it is refused (the answer is kept in `refusal`). */
async function postPing (http: HostileHttp, prefix: string, apiKey: string, to: string[] = ['@tmp']): Promise<Posted | HostileResponse> {
  const res = await http.sendPatiently('POST', `${prefix}/command/ping`, {
    headers: { 'x-api-key': apiKey },
    body: JSON.stringify({ commandHeader: { timeout: 60, lifespan: 60, to }, pingCommand: { hostile: true } })
  })
  if (res.status !== 200) return res
  const parsed = JSON.parse(res.body) as { commandId: string, destinations: Array<{ bid: string, mid: string, uri: string }> }
  const d = parsed.destinations[0]!
  const token = new URLSearchParams(d.uri.slice(d.uri.indexOf('?') + 1)).get('token') ?? ''
  return { commandId: parsed.commandId, bid: d.bid, mid: d.mid, token }
}

const isPosted = (value: Posted | HostileResponse): value is Posted => 'commandId' in value
const refusal = (res: HostileResponse): string => `${res.status} ${codeOf(res.body) ?? ''}`.trim()

export const crossGroupIds: HostileCase = {
  name: 'cross-group-ids',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    if (options.otherApiKey === undefined) return { verdict: 'skip', detail: 'needs --other-api-key (a client of another group)' }
    const p = options.prefix
    const mine = await postPing(http, p, options.apiKey)
    if (!isPosted(mine)) return { verdict: 'fail', detail: `could not post a command: ${refusal(mine)}` }
    const other = { 'x-api-key': options.otherApiKey }
    const missing = '9' + Date.now().toString().padStart(18, '0')
    const asOther = async (method: string, id: string): Promise<HostileResponse> =>
      await http.send(method, `${p}/command/${id}`, { headers: other })
    const pairs: Array<[string, HostileResponse, HostileResponse]> = [
      ['status', await asOther('GET', mine.commandId), await asOther('GET', missing)],
      ['cancel', await asOther('DELETE', mine.commandId), await asOther('DELETE', missing)]
    ]
    const still = await http.send('GET', `${p}/command/${mine.commandId}`, { headers: { 'x-api-key': options.apiKey } })
    await http.send('DELETE', `${p}/command/${mine.commandId}`, { headers: { 'x-api-key': options.apiKey } })
    const differ = pairs.filter(([, theirs, absent]) => theirs.status !== 404 || `${absent.status}${absent.body}` !== `${theirs.status}${theirs.body}`)
    if (differ.length > 0) return { verdict: 'fail', detail: `another group's id answers unlike a missing one: ${differ.map(([what, theirs]) => `${what} ${refusal(theirs)}`).join(', ')}` }
    const state = still.status === 200 ? (JSON.parse(still.body) as { state?: string }).state : refusal(still)
    if (state !== 'IN_PROGRESS') return { verdict: 'fail', detail: `the other group's cancel touched the command: ${state ?? '?'}` }
    return { verdict: 'pass', detail: 'status and cancel of another group\'s command: the same 404 as a missing id; the command untouched' }
  }
}

export const longPollHerd: HostileCase = {
  name: 'long-poll-herd',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const p = options.prefix
    const box = `hostile-herd-${randomUUID()}`
    // The first command makes the named box; answering it leaves the box empty.
    const first = await postPing(http, p, options.apiKey, [box])
    if (!isPosted(first)) return { verdict: 'fail', detail: `could not post a command: ${refusal(first)}` }
    await http.sendPatiently('POST', `${p}/ms/${first.bid}/${first.mid}`, { body: '{"status":"OK"}' })
    const polls = Array.from({ length: options.herd }, async () => {
      try {
        return await http.send('GET', `${p}/ms/${first.bid}?token=${first.token}&wait=${HERD_WAIT_SECONDS}`, { timeoutMs: (HERD_WAIT_SECONDS + 15) * 1000 })
      } catch (err) {
        return (err as { code?: string }).code === 'HOSTILE_TIMEOUT' ? 'hung' as const : 'cut' as const
      }
    })
    // Let the herd gather, then one message for all of them.
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 1_000 + options.herd * 2)))
    const second = await postPing(http, p, options.apiKey, [box])
    if (!isPosted(second)) return { verdict: 'fail', detail: `could not post the herd's message: ${refusal(second)}` }
    const answers = await Promise.all(polls)
    await http.send('DELETE', `${p}/command/${second.commandId}`, { headers: { 'x-api-key': options.apiKey } })
    let woken = 0
    let empty = 0
    let refused = 0
    let cut = 0
    let hung = 0
    const refusals = new Map<string, number>()
    for (const answer of answers) {
      if (answer === 'hung') hung++
      else if (answer === 'cut') cut++
      else if (answer.status === 200) {
        const mids = (JSON.parse(answer.body) as { messages: Array<{ mid: string }> }).messages.map((m) => m.mid)
        if (mids.includes(second.mid)) woken++
        else empty++
      } else {
        refused++
        const why = refusal(answer)
        refusals.set(why, (refusals.get(why) ?? 0) + 1)
      }
    }
    const reasons = [...refusals].map(([why, n]) => `${n} ${why}`).join(', ')
    const detail = `${options.herd} waits: ${woken} woken with the message, ${refused} refused${reasons === '' ? '' : ` (${reasons})`}, ` +
      `${cut} cut, ${empty} empty, ${hung} unanswered`
    return { verdict: woken > 0 && empty === 0 && hung === 0 ? 'pass' : 'fail', detail }
  }
}

export const rateLimitReached: HostileCase = {
  name: 'rate-limit',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const most = (options.rateLimit ?? 200) + 1
    // Shed requests (503 HERMOD_OVERLOADED) are not counted by a budget: they are asked again.
    for (let n = 1; n <= most; n++) {
      const res = await http.sendPatiently('GET', `${options.prefix}/command/0`, { headers: { 'x-api-key': options.apiKey } })
      if (res.status !== 429) continue
      const retryAfter = Number(res.headers['retry-after'])
      if (codeOf(res.body) !== 'HERMOD_RATE_LIMITED') return { verdict: 'fail', detail: `429 with ${codeOf(res.body) ?? 'no code'}, not HERMOD_RATE_LIMITED` }
      if (!Number.isInteger(retryAfter) || retryAfter < 1) return { verdict: 'fail', detail: `429 without a usable Retry-After (${String(res.headers['retry-after'])})` }
      return { verdict: 'pass', detail: `429 HERMOD_RATE_LIMITED after ${n} requests, Retry-After ${retryAfter} s` }
    }
    return options.rateLimit === undefined
      ? { verdict: 'skip', detail: `no 429 in ${most} requests (limits off or higher; --rate-limit N expects one)` }
      : { verdict: 'fail', detail: `no 429 in ${most} requests, though --rate-limit ${options.rateLimit} was given` }
  }
}

export const stillServes: HostileCase = {
  name: 'still-serves',
  async run ({ options, http }: CaseContext): Promise<CaseOutcome> {
    const p = options.prefix
    // The rate-limit case may have spent the main client's budget: the other one posts then.
    let posted = await postPing(http, p, options.apiKey)
    let limited = ''
    if (!isPosted(posted) && posted.status === 429 && options.otherApiKey !== undefined) {
      limited = ' (as the other client: the first one is rate-limited)'
      posted = await postPing(http, p, options.otherApiKey)
    }
    if (!isPosted(posted)) {
      if (posted.status !== 429) return { verdict: 'fail', detail: `accept answered ${refusal(posted)}` }
      const device = await http.send('GET', `${p}/ms/${randomUUID()}?token=x`)
      return { verdict: 'pass', detail: `accept rate-limited (429, Retry-After ${String(posted.headers['retry-after'])}); the device API answers ${refusal(device)}` }
    }
    const listed = await http.sendPatiently('GET', `${p}/ms/${posted.bid}?token=${posted.token}`)
    const read = await http.sendPatiently('GET', `${p}/ms/${posted.bid}/${posted.mid}`)
    const answered = await http.sendPatiently('POST', `${p}/ms/${posted.bid}/${posted.mid}`, { body: '{"status":"OK","response":{"pong":true}}' })
    const statuses = [listed.status, read.status, answered.status]
    if (statuses.some((s) => s !== 200)) return { verdict: 'fail', detail: `round trip answered ${statuses.join(', ')}` }
    return { verdict: 'pass', detail: `a round trip: accept, list, read, answer all 200${limited}` }
  }
}
