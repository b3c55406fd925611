// Redis-side time of two size-dependent scripts: listing a busy named box, and a timeout burst of large commands (SLOWLOG).
import { Redis } from 'ioredis'
import { RedisMailboxStore } from '../src/mailbox/redis-store.js'
import type { AcceptRequest } from '../src/mailbox/types.js'
import { CpuMeter } from '../src/bench/process-stats.js'
import type { PrivateRedis } from '../src/bench/redis-server.js'

/** What one script-time measurement found. */
export interface ScriptTimeResult {
  status: 'ok'
  /** What was measured, in words (sizes and counts). */
  scenario: string
  /** Script calls the measured operation made (EVALSHA / EVAL in SLOWLOG). */
  scriptCalls: number
  /** The longest single script, µs: how long Redis served nobody else. */
  longestScriptUs: number
  /** All of the operation's scripts together, µs. */
  totalScriptUs: number
  /** Average cores used while it ran (redis-server and `others`). */
  cpu: Record<string, number | null>
}

const T0 = Date.UTC(2026, 0, 1, 12)

function sign (over: Partial<AcceptRequest>): AcceptRequest {
  return { type: 'sign', group: 'bench', clientId: 'bench', timeoutSeconds: 600, lifespanSeconds: 600, to: ['@tmp'], payload: '{}', ...over }
}

/** A JSON payload of about `bytes` bytes. */
function payloadOf (bytes: number): string {
  return JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(Math.max(0, bytes - 40)) } } })
}

/** Runs `operation` with SLOWLOG recording every command, and sums up the scripts it ran. */
async function scriptTime (
  redis: PrivateRedis, scenario: string, prepare: (store: RedisMailboxStore) => Promise<() => Promise<unknown>>
): Promise<ScriptTimeResult> {
  await redis.flushAll()
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  const store = await RedisMailboxStore.connect({ config: { url: redis.url, prefix: 'benchscripts', options: {} } })
  const meter = new CpuMeter({ redis: redis.pid })
  try {
    const operation = await prepare(store)
    await admin.config('SET', 'slowlog-max-len', '10000')
    await admin.config('SET', 'slowlog-log-slower-than', '0')
    await admin.slowlog('RESET')
    meter.start()
    await operation()
    const { cores } = meter.stop()
    await admin.config('SET', 'slowlog-log-slower-than', '10000')
    const entries = await admin.slowlog('GET', 10000) as Array<[number, number, number, Array<string>]>
    const scripts = entries.filter((entry) => /^eval/i.test(String(entry[3][0])))
    const durations = scripts.map((entry) => Number(entry[2]))
    return {
      status: 'ok',
      scenario,
      scriptCalls: scripts.length,
      longestScriptUs: Math.max(0, ...durations),
      totalScriptUs: durations.reduce((a, b) => a + b, 0),
      cpu: cores
    }
  } finally {
    await store.close()
    admin.disconnect()
  }
}

/**
 * One listing of a named box holding `decided` answered messages with `payloadBytes` payloads and
 * `pending` pending ones (all within their lifespan). Only the pending ones are listed.
 */
export async function measureBusyBoxListing (
  redis: PrivateRedis, options: { decided: number, pending: number, payloadBytes: number }
): Promise<ScriptTimeResult> {
  const scenario = `list a named box with ${options.decided} answered messages (${options.payloadBytes} B payloads) and ${options.pending} pending`
  return await scriptTime(redis, scenario, async (store) => {
    const payload = payloadOf(options.payloadBytes)
    let box: { bid: string, token: string } | undefined
    for (let i = 0; i < options.decided; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, options.decided - i) }, async () => (await store.accept(sign({ to: ['busy'], payload }), T0)).command.destinations[0]!))
      await Promise.all(batch.map(async (d) => await store.answer(d.bid, d.mid, { status: 'OK', response: '{}' }, T0 + 1)))
      box ??= batch[0]
    }
    for (let i = 0; i < options.pending; i++) box = (await store.accept(sign({ to: ['busy'], payload }), T0 + 2)).command.destinations[0]!
    const { bid, token } = box!
    return async () => {
      const listing = await store.listBox(bid, token, T0 + 3)
      if (listing?.length !== options.pending) throw new Error(`listed ${listing?.length ?? 'nothing'}, expected ${options.pending}`)
    }
  })
}

/** `commands` pending commands of `payloadBytes` each, all due at once, timed out by the sweeper (claimDue until none is left). */
export async function measureTimeoutBurst (
  redis: PrivateRedis, options: { commands: number, payloadBytes: number }
): Promise<ScriptTimeResult> {
  const scenario = `time out ${options.commands} commands of ${options.payloadBytes} B at once (claimDue batches of 500)`
  return await scriptTime(redis, scenario, async (store) => {
    const payload = payloadOf(options.payloadBytes)
    for (let i = 0; i < options.commands; i++) await store.accept(sign({ timeoutSeconds: 10, payload }), T0)
    return async () => {
      let total = 0
      for (let claimed = -1; claimed !== 0;) total += claimed = await store.claimDue(T0 + 10_000, 500)
      if (total !== options.commands) throw new Error(`timed out ${total}, expected ${options.commands}`)
    }
  })
}
