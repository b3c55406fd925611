// `npm run bench:accept-variants`: where accept's Redis time goes. The accept script as shipped and edited copies of it
// (the script before its lean reply and binary ids, one returning at once; never loaded by the broker), each run alone on
// a private redis-server; and the box index SET sent apart or in one pipeline with the script.
import { Redis } from 'ioredis'
import { parseArgs } from 'node:util'
import { RedisKeys } from '../src/mailbox/keys.js'
import { acceptArgs, loadScript, scriptsDirectory } from '../src/mailbox/redis-scripts.js'
import { randomUuid } from '../src/mailbox/uuid.js'
import type { AcceptRequest } from '../src/mailbox/types.js'
import { processCpuSeconds } from '../src/bench/process-stats.js'
import { startPrivateRedis, type PrivateRedis } from '../src/bench/redis-server.js'
import { applyEdits, CALL_ONLY, PREVIOUS_SCRIPT, type ScriptEdit } from './accept-script-edits.js'
import { parseCommandStats } from './redis-cost.js'

interface Variant {
  name: string
  /** What the variant changes, in words. */
  change: string
  edits: ScriptEdit[]
  /** The `@tmp` ids go as UUID text (the previous script's form) instead of 16 raw bytes. */
  textIds?: boolean
  /** How the box index SET travels: apart (as shipped), in one pipeline with the script, or not at all (the script alone). */
  index: 'apart' | 'pipelined' | 'none'
}

const VARIANTS: Variant[] = [
  { name: 'as shipped', change: 'accept-4.lua today (lean reply, binary @tmp ids), the box index SET sent beside it', edits: [], index: 'apart' },
  { name: 'script alone', change: 'accept-4.lua today, no box index SET (what the script costs by itself)', edits: [], index: 'none' },
  { name: 'pipelined index', change: 'the index SET and the script in one ioredis pipeline (one write)', edits: [], index: 'pipelined' },
  {
    name: 'previous, with the index SET',
    change: 'the script before (text ids, `{1, metaJson}` reply: PREVIOUS_SCRIPT), the index SET beside it',
    edits: PREVIOUS_SCRIPT,
    textIds: true,
    index: 'apart'
  },
  { name: 'previous, script alone', change: 'the script before, no box index SET', edits: PREVIOUS_SCRIPT, textIds: true, index: 'none' },
  { name: 'call only', change: 'the script returns at its first line: EVALSHA with the same 24 arguments, nothing run', edits: CALL_ONLY, index: 'none' }
]

const PAYLOAD = JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(420), mode: 'S', signatureType: 'JWS' } } })

interface VariantResult { name: string, change: string, scriptUs: number, processUs: number | null, commands: number }

async function run (redis: PrivateRedis, variant: Variant, count: number, text: string): Promise<VariantResult> {
  const client = new Redis(redis.url, { enableAutoPipelining: false })
  const admin = new Redis(redis.url)
  try {
    const keys = new RedisKeys(`var${VARIANTS.indexOf(variant)}`)
    const sha = await client.script('LOAD', applyEdits(text, variant.edits)) as string
    const group = 'bench'
    const one = async (i: number): Promise<void> => {
      const req: AcceptRequest = { type: 'sign', group, clientId: 'bench', timeoutSeconds: 300, lifespanSeconds: 300, to: ['@tmp'], payload: PAYLOAD }
      const id = String(i + 1)
      const sent = [{ to: '@tmp', bid: randomUuid(), mid: randomUuid(), token: randomUuid() }]
      const timing = { graceMs: 3_600_000, slackMs: 5_000, channel: keys.wakeChannel() }
      const args = acceptArgs(req, 1_767_268_800_000, id, sent, new Map(), timing)
      if (variant.textIds === true) args.splice(16, 3, sent[0]!.bid, sent[0]!.mid, sent[0]!.token)
      const scriptKeys = [keys.groupBase(group), keys.command(group, id), keys.deadlines(group), keys.command(group, id)]
      scriptKeys.push(keys.groupIndexKeys(group)[0]) // the bucket's deadline index, which accept lowers
      const indexArgs = [keys.boxIndex(sent[0]!.bid), `${id}:${group}`, 'PX', 305_000] as const
      if (variant.index === 'pipelined') {
        const replies = await client.pipeline().set(...indexArgs).evalsha(sha, scriptKeys.length, ...scriptKeys, ...args).exec()
        for (const [err] of replies ?? []) if (err !== null) throw err
      } else {
        await Promise.all([client.evalsha(sha, scriptKeys.length, ...scriptKeys, ...args), variant.index === 'apart' ? client.set(...indexArgs) : undefined])
      }
    }
    for (let i = 0; i < 200; i++) await one(count + i) // warm-up, ids past the measured ones
    await admin.config('RESETSTAT')
    const before = processCpuSeconds(redis.pid)
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => { while (next < count) await one(next++) }))
    const after = processCpuSeconds(redis.pid)
    const stats = parseCommandStats(await admin.info('commandstats'))
    const evalsha = stats.get('evalsha')
    return {
      name: variant.name,
      change: variant.change,
      scriptUs: Math.round(((evalsha?.usec ?? 0) / count) * 100) / 100,
      processUs: before === null || after === null ? null : Math.round(((after - before) * 1e6 / count) * 10) / 10,
      commands: Math.round(((evalsha?.calls ?? 0) + (variant.index === 'none' ? 0 : count)) / count * 100) / 100
    }
  } finally {
    client.disconnect()
    admin.disconnect()
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { count: { type: 'string' }, rounds: { type: 'string' } } })
  const count = values.count === undefined ? 20_000 : Number(values.count)
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds)
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--count and --rounds are positive integers')
  const text = loadScript(scriptsDirectory(), 'accept-4')
  const redis = await startPrivateRedis()
  const results = new Map<string, VariantResult[]>()
  try {
    // Rounds interleave the variants, so each sees the machine in the same states; medians are reported.
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) {
        await redis.flushAll()
        const result = await run(redis, variant, count, text)
        results.set(variant.name, [...(results.get(variant.name) ?? []), result])
        process.stderr.write(`[${round + 1}/${rounds}] ${variant.name}: script ${result.scriptUs} µs, redis-server ${result.processUs ?? 'n/a'} µs\n`)
      }
    }
  } finally {
    await redis.stop()
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const lines = ['| Variant | Change | Commands | Script time (commandstats) | redis-server CPU per accept |', '|---|---|---|---|---|']
  for (const [name, runs] of results) {
    const cpu = runs.map((r) => r.processUs).filter((x): x is number => x !== null)
    lines.push(`| ${name} | ${runs[0]!.change} | ${runs[0]!.commands} | ${median(runs.map((r) => r.scriptUs))} µs | ${cpu.length === 0 ? 'n/a' : `${median(cpu)} µs`} |`)
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:accept-variants: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
