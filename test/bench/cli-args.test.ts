// `hermod-broker bench` arguments: defaults, loopback only, options that only make sense for a started broker.
import t from 'tap'
import { parseBenchArgs, runBench } from '../../src/cli/bench.js'

t.test('defaults: a started embedded broker, round trips, 10 s, 32 connections, bounded count', async (t) => {
  t.match(parseBenchArgs([]), {
    store: 'memory', scenario: 'roundtrip', durationMs: 10_000, warmupMs: 2000, maxOperations: 1_000_000, connections: 32, receiverPort: 0, overrides: {}, callbackTimeoutMs: 10_000
  })
  const parsed = parseBenchArgs(['--store', 'redis', '--set', 'broker.sweep-interval-ms=50', '--scenario', 'accept', '--duration', '3', '--requests', '500', '--rate', '100', '--warmup', '0'])
  t.match(parsed, { store: 'redis', scenario: 'accept', durationMs: 3000, maxOperations: 500, rate: 100, warmupMs: 0, overrides: { 'broker.sweep-interval-ms': '50' } })
})

t.test('a running broker must be on loopback and needs an API key', async (t) => {
  t.match(parseBenchArgs(['--url', 'https://127.0.0.1:20400/hermod/rest/', '--api-key', 'k']), { url: 'https://127.0.0.1:20400/hermod/rest', apiKey: 'k' })
  t.match(parseBenchArgs(['--url', 'https://localhost:20400/hermod/rest', '--api-key', 'k']), { url: 'https://localhost:20400/hermod/rest' })
  t.throws(() => parseBenchArgs(['--url', 'https://hermod.example.com/hermod/rest', '--api-key', 'k']), /loopback/)
  t.throws(() => parseBenchArgs(['--url', 'https://127.0.0.1:20400/hermod/rest']), /--api-key/)
  t.throws(() => parseBenchArgs(['--url', 'https://127.0.0.1:1', '--api-key', 'k', '--store', 'redis']), /not to --url/)
})

t.test('bad values are usage errors', async (t) => {
  t.throws(() => parseBenchArgs(['--duration', '0']), /--duration must be a positive number/)
  t.throws(() => parseBenchArgs(['--connections', '2.5']), /positive integer/)
  t.throws(() => parseBenchArgs(['--scenario', 'soak']), /roundtrip, accept, autoanswer or hostile/)
  t.throws(() => parseBenchArgs(['--scenario', 'autoanswer', '--url', 'https://127.0.0.1:1/hermod/rest', '--api-key', 'x']), /starts its own broker/)
  t.throws(() => parseBenchArgs(['--set', 'novalue']), /key=value/)
  t.throws(() => parseBenchArgs(['--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })
})

t.test('runBench answers 2 for a bad command line and 0 for --help, without starting anything', async (t) => {
  const written: string[] = []
  const stderr = process.stderr.write.bind(process.stderr)
  const stdout = process.stdout.write.bind(process.stdout)
  process.stderr.write = ((chunk: string) => { written.push(String(chunk)); return true }) as typeof process.stderr.write
  process.stdout.write = ((chunk: string) => { written.push(String(chunk)); return true }) as typeof process.stdout.write
  // Assert only after stdout is back: tap writes its own output there.
  let bad: number | undefined
  let help: number | undefined
  try {
    bad = await runBench(['--scenario', 'soak'])
    help = await runBench(['--help'])
  } finally {
    process.stderr.write = stderr
    process.stdout.write = stdout
  }
  t.equal(bad, 2)
  t.equal(help, 0)
  t.match(written.join(''), /--scenario is roundtrip, accept, autoanswer or hostile[\s\S]*Usage:/)
})

t.test('--scenario hostile: against --url only, its own options with bounded defaults', async (t) => {
  const url = ['--url', 'https://127.0.0.1:20400/hermod/rest', '--api-key', 'k']
  t.match(parseBenchArgs(['--scenario', 'hostile', ...url]).hostile, {
    origin: 'https://127.0.0.1:20400', prefix: '/hermod/rest', apiKey: 'k', cutWithinMs: 45_000, herd: 1000, flood: 256, bodyLimit: 1_048_576
  })
  t.match(parseBenchArgs(['--scenario', 'hostile', ...url, '--other-api-key', 'o', '--rate-limit', '50', '--herd', '10', '--cases', 'bad-json, rate-limit']).hostile,
    { otherApiKey: 'o', rateLimit: 50, herd: 10, cases: ['bad-json', 'rate-limit'] })
  t.throws(() => parseBenchArgs(['--scenario', 'hostile']), /give --url and --api-key/)
  t.throws(() => parseBenchArgs(['--scenario', 'hostile', '--url', 'https://hermod.example.com/hermod/rest', '--api-key', 'k']), /loopback/)
  t.throws(() => parseBenchArgs(['--scenario', 'hostile', ...url, '--cases', 'bad-json,slowloris']), /unknown slowloris/)
  t.throws(() => parseBenchArgs(['--scenario', 'hostile', ...url, '--herd', '100000']), /at most 10000/)
  t.throws(() => parseBenchArgs(['--scenario', 'hostile', ...url, '--flood', '0']), /--flood must be a positive integer/)
})
