// `hermod-broker bench --url` against the quick-start broker: stops at once saying what its config needs;
// set up as told, it runs for about --duration.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { parseBenchArgs } from '../../src/cli/bench.js'
import { spawnBroker } from '../helpers/broker-process.js'
import { freePort } from '../helpers/redis-server.js'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const DEV_CONFIG = new URL('../../config/application.yml', import.meta.url).pathname
// The README's X-Api-Key of the demo client.
const README_KEY = 'ZGVtbzo0NmFiNmYzZjQxN2ZhM2YwMTEyZTRmMmU2MmM4NDg3NmUwY2Y1ZTE2NDdlNzAxZjcxMjc3MWNhZDNjODMxMDE2'

async function bench (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string, ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr, ms: Date.now() - started }
}

t.test('the warm-up fits the duration: a 3 s run warms up 0.6 s, not 2 s', async (t) => {
  t.equal(parseBenchArgs(['--duration', '3']).warmupMs, 600)
  t.equal(parseBenchArgs([]).warmupMs, 2000, 'the default 10 s run keeps its 2 s')
  t.equal(parseBenchArgs(['--duration', '3', '--warmup', '0']).warmupMs, 0)
})

t.test('round trips against the quick-start broker: one probe, then exit 1 naming the callback-url it needs', async (t) => {
  const broker = await spawnBroker({ args: ['--config', DEV_CONFIG, '--port', String(await freePort())] })
  t.teardown(() => broker.stop('SIGKILL'))
  const result = await bench(['--url', `${broker.url}/hermod/rest`, '--api-key', README_KEY, '--duration', '3'])
  t.equal(result.code, 1, `exit 1 (${result.stderr})`)
  t.equal(result.stdout, '', 'no result JSON full of callback timeouts')
  t.match(result.stderr, /no callback at the bench's receiver/)
  t.match(result.stderr, /callback-url: http:\/\/127\.0\.0\.1:\d+/)
  t.match(result.stderr, /--scenario accept/)
})

t.test('the quick-start broker with its callbacks sent to the bench: round trips, no callback timeouts, measured for about --duration', async (t) => {
  const receiverPort = await freePort()
  const broker = await spawnBroker({ args: ['--config', DEV_CONFIG, '--port', String(await freePort()), '--set', `allowed-clients[0].callback-url=http://127.0.0.1:${receiverPort}`] })
  t.teardown(() => broker.stop('SIGKILL'))
  const result = await bench(['--url', `${broker.url}/hermod/rest`, '--api-key', README_KEY, '--receiver-port', String(receiverPort), '--duration', '3', '--connections', '4', '--pin', 'off'])
  t.equal(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as { durationS: number, roundTrips: { count: number }, errors: { total: number } }
  t.ok(json.roundTrips.count > 0, `round trips: ${json.roundTrips.count}`)
  t.equal(json.errors.total, 0, 'no errors, no callback timeouts')
  // Before, a run whose callbacks never came lasted the 10 s callback timeout; here the bound is only that.
  t.ok(json.durationS >= 3 && json.durationS < 9, `measured ${json.durationS} s for --duration 3`)
})
