// `npm run bench:redis-cost`: Redis CPU per operation on a private redis-server, printed as a Markdown table.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startPrivateRedis } from '../src/bench/redis-server.js'
import { formatRedisCost, measureRedisCost } from './redis-cost.js'

async function main (): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { count: { type: 'string' }, out: { type: 'string' } } })
  const count = values.count === undefined ? 5_000 : Number(values.count)
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('--count is an integer, 1..1000000')
  const redis = await startPrivateRedis()
  try {
    process.stderr.write(`redis-server ${redis.version} on ${redis.url}, ${count} operations each\n`)
    const result = await measureRedisCost(redis, { count })
    if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(`${formatRedisCost(result)}\n`)
  } finally {
    await redis.stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:redis-cost: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
