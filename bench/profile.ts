// `node dist/bench/profile.js`: CPU profiles (--cpu-prof) of the ceiling and the broker at the same fixed accept rate,
// compared per request.
// Usage: node dist/bench/profile.js [--store memory|redis] [--rate N] [--duration S] [--top N]
//   [--dir DIR (default: $TMPDIR/hermod-bench-profiles)]
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'
import { startBrokerProcess } from '../src/bench/broker-process.js'
import { cpuLayout, pinSelf } from '../src/bench/cpu-pinning.js'
import { runLoad } from '../src/bench/load-run.js'
import { startPrivateRedis, type PrivateRedis } from '../src/bench/redis-server.js'
import type { RunResult } from '../src/bench/result.js'
import { startCeiling } from './ceiling-process.js'
import { summarizeProfile, type ProfileSummary } from './profile-summary.js'

const { values } = parseArgs({
  options: { store: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, top: { type: 'string' }, dir: { type: 'string' } }
})
const store = values.store === 'redis' ? 'redis' : 'memory'
const rate = Number(values.rate ?? 1500)
const durationMs = Number(values.duration ?? 15) * 1000
const top = Number(values.top ?? 30)
const dir = values.dir ?? join(tmpdir(), 'hermod-bench-profiles')

/** Loads the one profile a process wrote into `into` and summarises it. */
function profileIn (into: string): ProfileSummary {
  const file = readdirSync(into).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no profile written in ${into}`)
  return summarizeProfile(JSON.parse(readFileSync(join(into, file), 'utf8')), top)
}

function perRequest (summary: ProfileSummary, requests: number): string[] {
  const us = (ms: number): string => (ms * 1000 / requests).toFixed(1).padStart(7)
  return [
    ...summary.functions.map((f) => `${us(f.ms)} us  ${String(f.share).padStart(5)}%  ${f.name}  ${f.where}`),
    '  by package / file:',
    ...summary.packages.map((p) => `${us(p.ms)} us  ${String(p.share).padStart(5)}%  ${p.name}`)
  ]
}

async function main (): Promise<void> {
  const layout = cpuLayout()
  if (layout !== null) pinSelf(layout.client)
  const load = { connections: 32, durationMs, maxOperations: 10_000_000, warmupMs: 3000, rate }
  const ceilingDir = join(dir, 'ceiling')
  const brokerDir = join(dir, `broker-${store}`)
  for (const d of [ceilingDir, brokerDir]) { rmSync(d, { recursive: true, force: true }); mkdirSync(d, { recursive: true }) }

  const ceiling = await startCeiling(['--cpu-prof', `--cpu-prof-dir=${ceilingDir}`], layout?.server)
  let ceilingRun: RunResult
  try {
    ceilingRun = await runLoad({ ...load, target: { origin: ceiling.origin, prefix: '/hermod/rest', apiKey: 'none' }, scenario: 'accept', pids: { server: ceiling.pid }, label: 'ceiling' })
  } finally {
    await ceiling.stop()
  }
  let redis: PrivateRedis | undefined
  let brokerRun: RunResult
  try {
    if (store === 'redis') redis = await startPrivateRedis(layout === null ? {} : { cpus: layout.redis })
    const broker = await startBrokerProcess({ store, ...(redis === undefined ? {} : { redisUrl: redis.url }), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${brokerDir}`], ...(layout === null ? {} : { cpus: layout.server }) })
    try {
      brokerRun = await runLoad({ ...load, target: broker.target, scenario: 'accept', pids: { broker: broker.pid, redis: redis?.pid }, label: `broker ${store}` })
    } finally {
      await broker.stop()
    }
  } finally {
    await redis?.stop()
  }
  // The profiles cover warm-up and start-up too: charge them to every request the process answered.
  const total = (r: RunResult): number => r.accepted.count + Math.round(r.accepted.perSecond * load.warmupMs / 1000)
  const out = [
    `fixed rate ${rate}/s for ${durationMs / 1000} s (+3 s warm-up), 32 connections`,
    `ceiling: ${ceilingRun.accepted.perSecond}/s, p99 ${ceilingRun.accepted.latencyMs.p99} ms, server CPU ${ceilingRun.cpuUsPerOperation.server} us/request`,
    `broker (${store}): ${brokerRun.accepted.perSecond}/s, p99 ${brokerRun.accepted.latencyMs.p99} ms, broker CPU ${brokerRun.cpuUsPerOperation.broker} us/request` +
      (store === 'redis' ? `, redis CPU ${brokerRun.cpuUsPerOperation.redis} us/request` : ''),
    '', `ceiling profile (${ceilingDir}), self time per request:`, ...perRequest(profileIn(ceilingDir), total(ceilingRun)),
    '', `broker profile (${brokerDir}), self time per request:`, ...perRequest(profileIn(brokerDir), total(brokerRun))
  ]
  process.stdout.write(`${out.join('\n')}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`profile: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
