// The `hermod-broker` command: start, generate-client, dlq, bench, device, healthcheck, version, help.
import { parseArgs } from 'node:util'
import { CLIENT_ID_PATTERN, generateClientYaml } from '../auth/generate-client.js'
import { ConfigError, loadConfig } from '../config/load.js'
import { createLogger } from '../server/logger.js'
import { runFront } from '../server/front/front-process.js'
import { connectToFront, isFrontWorker } from '../server/front/worker-link.js'
import { VERSION } from '../version.js'
import { commandHelp, MAIN_HELP as HELP } from './help.js'

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const help = command === undefined ? undefined : commandHelp(command, rest)
  if (help !== undefined) {
    process.stdout.write(help)
    return 0
  }
  switch (command) {
    case 'start': return await start(rest)
    case 'generate-client': return generateClient(rest)
    // Loaded when used: a front process (server.front-process) keeps only what it needs in memory.
    case 'dlq': return await (await import('./dlq.js')).runDlq(rest)
    case 'device': return await (await import('./device.js')).runDevice(rest)
    case 'healthcheck': return await (await import('./healthcheck.js')).runHealthcheck(rest)
    case 'bench': return await (await import('./bench.js')).runBench(rest)
    case 'version': case '--version': case '-v':
      process.stdout.write(`${VERSION}\n`)
      return 0
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP)
      return 0
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`)
      return 2
  }
}

async function start (args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      role: { type: 'string' },
      set: { type: 'string', multiple: true }
    }
  })
  const overrides: Record<string, string> = {}
  if (values.port !== undefined) overrides['server.port'] = values.port
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set takes key=value, got "${pair}"`)
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  const role = values.role ?? 'all'
  if (role !== 'all' && role !== 'api' && role !== 'worker') throw new UsageError('--role is all, api or worker')
  const loadOptions = { ...(values.config === undefined ? {} : { file: values.config }), overrides }
  const { config, notices } = await loadConfig(loadOptions)
  const logger = createLogger(config.broker.log)
  // A front's broker process loaded the same: its front has logged these.
  if (!isFrontWorker()) {
    for (const notice of notices) logger.info(notice)
    if (config.source !== undefined) logger.info({ config: config.source }, 'configuration loaded')
  }
  if (isFrontWorker()) {
    // The broker process of a front (below): the front accepts, this process serves what it hands over.
    const { startBroker } = await import('../server/start.js')
    await startBroker(config, { logger, role, reload: loadOptions, handleSignals: true, front: await connectToFront() })
  } else if (config.server.frontProcess) {
    await runFront(config, { logger, role, args: ['start', ...args] })
  } else {
    const { startBroker } = await import('../server/start.js')
    await startBroker(config, { logger, role, reload: loadOptions, handleSignals: true })
  }
  return -1
}

function generateClient (args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { group: { type: 'string', short: 'g' } } })
  const clientId = positionals[0]
  if (clientId === undefined || !CLIENT_ID_PATTERN.test(clientId)) throw new UsageError('generate-client needs a client id: 1 to 64 characters of A-Z a-z 0-9 . _ -')
  if (values.group !== undefined && !CLIENT_ID_PATTERN.test(values.group)) throw new UsageError('--group: 1 to 64 characters of A-Z a-z 0-9 . _ -')
  process.stdout.write(generateClientYaml(clientId, values.group ?? clientId))
  return 0
}

/** A mistake in the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code
}, (err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`hermod-broker: the configuration has problems:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`)
    process.exitCode = 1
  } else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`hermod-broker: ${(err as Error).message}\n`)
    process.exitCode = 2
  } else {
    process.stderr.write(`hermod-broker: ${(err as Error).message ?? String(err)}\n`)
    process.exitCode = 1
  }
  // A front's broker process that could not start: its IPC channel would keep it (and so the front) alive.
  if (isFrontWorker()) process.exit()
})
