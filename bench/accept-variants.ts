// `npm run bench:accept-variants`: where accept's Redis time goes. The accept script as shipped and edited copies of it
// (proposals, never loaded by the broker), each run alone on a private redis-server; and the box index SET sent apart
// or in one pipeline with the script.
import { Redis } from 'ioredis'
import { parseArgs } from 'node:util'
import { RedisKeys } from '../src/mailbox/keys.js'
import { acceptArgs, loadScript, scriptsDirectory } from '../src/mailbox/redis-scripts.js'
import { randomUuid } from '../src/mailbox/uuid.js'
import type { AcceptRequest } from '../src/mailbox/types.js'
import { processCpuSeconds } from '../src/bench/process-stats.js'
import { startPrivateRedis, type PrivateRedis } from '../src/bench/redis-server.js'
import { applyEdits, BINARY_IDS, LEAN_REPLY, type ScriptEdit } from './accept-script-edits.js'
import { parseCommandStats } from './redis-cost.js'

interface Variant {
  name: string
  /** What the variant changes, in words (the proposal). */
  change: string
  edits: ScriptEdit[]
  /** The ids go as 16 raw bytes (Buffers) instead of UUID text. */
  binaryIds?: boolean
  /** How the box index SET travels: apart (as shipped), in one pipeline with the script, or not at all (the script alone). */
  index: 'apart' | 'pipelined' | 'none'
}

const CALL_ONLY: ScriptEdit = { from: 'local base, commandKey, deadlinesKey, idempotencyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]', to: 'do return {1} end' }

const VARIANTS: Variant[] = [
  { name: 'as shipped', change: 'accept-4.lua today, the box index SET sent beside it', edits: [], index: 'apart' },
  { name: 'script alone', change: 'accept-4.lua today, no box index SET (what the script costs by itself)', edits: [], index: 'none' },
  { name: 'pipelined index', change: 'the index SET and the script in one ioredis pipeline (one write)', edits: [], index: 'pipelined' },
  { name: 'lean reply', change: 'created: `{3, bid, token, ...}` (LEAN_REPLY), not the meta as JSON', edits: LEAN_REPLY, index: 'none' },
  { name: 'binary ids', change: 'ids sent as 16 raw bytes: no uuidBin in Lua', edits: BINARY_IDS, binaryIds: true, index: 'none' },
  { name: 'both', change: 'lean reply and binary ids', edits: [...LEAN_REPLY, ...BINARY_IDS], binaryIds: true, index: 'none' },
  { name: 'call only', change: 'the script returns at its first line: EVALSHA with the same 24 arguments, nothing run', edits: [CALL_ONLY], index: 'none' },
  { name: 'lean reply, with the index SET', change: 'lean reply, the index SET beside it (what an accept would cost)', edits: LEAN_REPLY, index: 'apart' },
  { name: 'both, pipelined index', change: 'lean reply, binary ids, index SET pipelined', edits: [...LEAN_REPLY, ...BINARY_IDS], binaryIds: true, index: 'pipelined' }
]

const PAYLOAD = JSON.stringify({ signCommand: { params: { tbs: 'x'.repeat(420), mode: 'S', signatureType: 'JWS' } } })

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex')

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
      const args: Array<string | number | Buffer> = acceptArgs(req, 1_767_268_800_000, id, sent, new Map(),
        { graceMs: 3_600_000, slackMs: 5_000, channel: keys.wakeChannel() })
      if (variant.binaryIds === true) for (let a = 16; a <= 18; a++) args[a] = uuidBytes(String(args[a]))
      const scriptKeys = [keys.groupBase(group), keys.command(group, id), keys.deadlines(group), keys.command(group, id)]
      const indexArgs = [keys.boxIndex(sent[0]!.bid), `${id}:${group}`, 'PX', 305_000] as const
      if (variant.index === 'pipelined') {
        const replies = await client.pipeline().set(...indexArgs).evalsha(sha, 4, ...scriptKeys, ...args).exec()
        for (const [err] of replies ?? []) if (err !== null) throw err
      } else {
        await Promise.all([client.evalsha(sha, 4, ...scriptKeys, ...args), variant.index === 'apart' ? client.set(...indexArgs) : undefined])
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
