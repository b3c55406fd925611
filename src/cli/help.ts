// The usage text of each command and subcommand, for `hermod-broker <command> [<subcommand>] --help`.
import { VERSION } from '../version.js'
import { BENCH_HELP } from './bench.js'
import { DEVICE_HELP } from './device.js'

const CONFIG_LINE = 'Config: --config FILE, else $HERMOD_CONFIG, else ./config/application.yml.'

/** The top-level usage: every command, and where each one's help is. */
export const MAIN_HELP = `hermod-broker ${VERSION}: a Hermod-compatible messaging broker

Usage:
  hermod-broker start [--config FILE] [--port N] [--role all|api|worker] [--set key=value]...
  hermod-broker generate-client <client-id> [--group GROUP]
  hermod-broker dlq list [--limit N] [--url URL] [--user USER:PASSWORD] [--insecure] [--config FILE]
  hermod-broker dlq replay <event-id> [--url URL] [--user USER:PASSWORD] [--insecure] [--config FILE]
  hermod-broker bench [--store memory|redis | --url URL --api-key KEY] [--scenario roundtrip|accept] ...
  hermod-broker device <uri|location|personal://…> [--watch] [--reject | --response FILE] [--profile FILE] ...
  hermod-broker healthcheck [--config FILE]     exit 0 when the local broker is ready (Docker HEALTHCHECK)
  hermod-broker version
  hermod-broker help [<command>] | <command> --help | dlq list|replay --help

${CONFIG_LINE} Environment overrides in
Spring's form (SERVER_PORT=8443, BROKER_STORE=redis); --set takes any key (--set server.port=8443).
`

const START_HELP = `hermod-broker start: serve the broker until SIGTERM or SIGINT

Usage:
  hermod-broker start [--config FILE] [--port N] [--role all|api|worker] [--set key=value]...

  -c, --config FILE   the application.yml to read
  -p, --port N        server.port (0: any free port)
  --role ROLE         all (default): the API, the sweeper and callback delivery;
                      api: the API only (no sweeper, no delivery); worker: sweeper and delivery,
                      with only health and metrics over HTTP. api and worker need broker.store: redis.
  --set key=value     any setting, in any spelling (--set broker.store=redis); repeatable

The "hermod-broker listening" log line carries the pid: kill -HUP <pid> reloads allowed-clients,
kill -TERM <pid> stops gracefully. ${CONFIG_LINE}
`

const GENERATE_CLIENT_HELP = `hermod-broker generate-client: print a fresh allowed-clients entry and its X-Api-Key

Usage:
  hermod-broker generate-client <client-id> [--group GROUP]

  <client-id>         1 to 64 characters of A-Z a-z 0-9 . _ -
  -g, --group GROUP   the group (default: the client id); clients of one group share named boxes

The same output as GET {context-path}{uri-base}/util/generateclient/{clientId}. Nothing is stored:
paste the entry under allowed-clients and reload (kill -HUP <pid>).
`

const DLQ_OPTIONS = `  --url URL             the broker's base URL with its context path (default: from the config,
                        https://127.0.0.1:<server.port><context-path>)
  --user USER:PASSWORD  broker.admin credentials (default: from the config; none: loopback only)
  --insecure            do not verify the broker's certificate (a generated one is never verified)
  -c, --config FILE     the config to read defaults from`

const DLQ_HELP = `hermod-broker dlq: dead-lettered callbacks, through a running broker's admin API

Usage:
  hermod-broker dlq list [--limit N] [options]
  hermod-broker dlq replay <event-id> [options]

${DLQ_OPTIONS}
`

const DLQ_LIST_HELP = `hermod-broker dlq list: the dead-lettered callbacks, newest first, as JSON

Usage:
  hermod-broker dlq list [--limit N] [options]

  --limit N             at most N (default 100)
${DLQ_OPTIONS}
`

const DLQ_REPLAY_HELP = `hermod-broker dlq replay: queue one dead-lettered callback again, with a fresh retry schedule

Usage:
  hermod-broker dlq replay <event-id> [options]

  <event-id>            the id from dlq list
${DLQ_OPTIONS}
`

const HEALTHCHECK_HELP = `hermod-broker healthcheck: ask the local broker's readiness endpoint (Docker HEALTHCHECK)

Usage:
  hermod-broker healthcheck [--config FILE]

Calls https://127.0.0.1:<server.port><context-path>/actuator/health/readiness (http without TLS)
and prints the answer. Exit 0 when it answers 200 within 3 s, else 1.
`

const VERSION_HELP = `hermod-broker version: print the version

Usage:
  hermod-broker version
`

const HELP_BY_COMMAND: Record<string, string> = {
  start: START_HELP,
  'generate-client': GENERATE_CLIENT_HELP,
  dlq: DLQ_HELP,
  'dlq list': DLQ_LIST_HELP,
  'dlq replay': DLQ_REPLAY_HELP,
  healthcheck: HEALTHCHECK_HELP,
  version: VERSION_HELP,
  bench: BENCH_HELP,
  device: DEVICE_HELP
}

/** The usage text when `args` (after the command) ask for help (`--help`, `-h`, or `help <command>`), else undefined. */
export function commandHelp (command: string, args: string[]): string | undefined {
  if (command === 'help' && args.length > 0) return commandHelp(args[0]!, [...args.slice(1), '--help'])
  if (!args.includes('--help') && !args.includes('-h')) return undefined
  const sub = command === 'dlq' && (args[0] === 'list' || args[0] === 'replay') ? `dlq ${args[0]}` : command
  return HELP_BY_COMMAND[sub]
}
